// The nodes file (DESIGN §1): one IP address per line; PNN = line number from 0 among the
// lines that are not blank or pure comments; a line that is only "#" keeps its number taken
// (a deleted node, as in CTDB); "#" after an address starts a comment. An address followed by
// the word `witness` is a node that never holds records (§1): it installs generations, acks
// lease probes and votes, like CTDB's nodes without the lmaster capability; a 2-node cluster
// adds one to keep a quorum when a node dies.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fnv1a32String } from './fnv1a.js';

export interface NodeEntry {
  pnn: number;
  /** Empty for a deleted node. */
  address: string;
  deleted: boolean;
  /** Configured `witness`: never a member, never a leader. */
  witness: boolean;
}

export interface NodesFile {
  nodes: NodeEntry[];
  /** FNV-1a of the normalised list; links carry it and refuse a mismatch. */
  hash: number;
}

export class NodesFileError extends Error {
  override readonly name = 'NodesFileError';
}

export function parseNodesFile(text: string): NodesFile {
  const nodes: NodeEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === '#') {
      nodes.push({ pnn: nodes.length, address: '', deleted: true, witness: false });
      continue;
    }
    if (line.startsWith('#')) continue;
    const words = line.split('#')[0]!.trim().split(/\s+/);
    const address = words[0]!;
    const options = words.slice(1);
    const unknown = options.find((w) => w !== 'witness');
    if (unknown !== undefined) throw new NodesFileError(`nodes file line ${i + 1}: unknown option '${unknown}' (only 'witness')`);
    if (isIP(address) === 0) throw new NodesFileError(`nodes file line ${i + 1}: '${address}' is not an IP address`);
    if (nodes.some((n) => n.address === address)) throw new NodesFileError(`nodes file line ${i + 1}: duplicate address ${address}`);
    nodes.push({ pnn: nodes.length, address, deleted: false, witness: options.includes('witness') });
  }
  if (nodes.length === 0) throw new NodesFileError('nodes file lists no node');
  if (!nodes.some((n) => !n.deleted && !n.witness)) throw new NodesFileError('nodes file lists no node that can hold records (all are witnesses)');
  const hash = fnv1a32String(nodes.map((n) => (n.deleted ? '#' : n.witness ? `${n.address} witness` : n.address)).join('\n'));
  return { nodes, hash };
}

export function readNodesFile(path: string): NodesFile {
  return parseNodesFile(readFileSync(path, 'utf8'));
}

/** The non-deleted lines of the nodes file: what a quorum and a lease majority count (§1, §2.2). */
export function countedNodes(nodes: NodesFile): number[] {
  return nodes.nodes.filter((n) => !n.deleted).map((n) => n.pnn);
}

/** A majority of the nodes file (non-deleted lines, witnesses included). */
export function nodesMajority(nodes: NodesFile): number {
  return Math.floor(countedNodes(nodes).length / 2) + 1;
}
