// The nodes file (DESIGN §1): one IP address per line; PNN = line number from 0 among the
// lines that are not blank or pure comments; a line that is only "#" keeps its number taken
// (a deleted node, as in CTDB); "#" after an address starts a comment.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fnv1a32String } from './fnv1a.js';

export interface NodeEntry {
  pnn: number;
  /** Empty for a deleted node. */
  address: string;
  deleted: boolean;
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
      nodes.push({ pnn: nodes.length, address: '', deleted: true });
      continue;
    }
    if (line.startsWith('#')) continue;
    const address = line.split('#')[0]!.trim();
    if (isIP(address) === 0) throw new NodesFileError(`nodes file line ${i + 1}: '${address}' is not an IP address`);
    if (nodes.some((n) => n.address === address)) throw new NodesFileError(`nodes file line ${i + 1}: duplicate address ${address}`);
    nodes.push({ pnn: nodes.length, address, deleted: false });
  }
  if (nodes.length === 0) throw new NodesFileError('nodes file lists no node');
  const hash = fnv1a32String(nodes.map((n) => n.address || '#').join('\n'));
  return { nodes, hash };
}

export function readNodesFile(path: string): NodesFile {
  return parseNodesFile(readFileSync(path, 'utf8'));
}
