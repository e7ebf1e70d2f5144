// Node-level output (DESIGN §10): status, listnodes, pnn, ping, getvnnmap, in ctdb's text formats
// (ctdb/tools/ctdb.c print_nodemap, print_status) and the JSON shapes the tests depend on.
import type { NodeMapEntry } from '../client-types.js';

export interface VnnMapView {
  generation: number;
  pnns: number[];
}

export interface StatusView {
  pnn: number;
  nodes: NodeMapEntry[];
  vnnmap: VnnMapView;
  /** The recovery leader; null while none is known. */
  leader: number | null;
  /** The node's dbs are frozen: ctdb's "Recovery mode:RECOVERY (1)". */
  frozen: boolean;
  /** The node's dbd reaches a majority of the nodes file (DESIGN §1). */
  quorum: boolean;
}

export interface StatusJson {
  pnn: number;
  /** The uint64 generation (term × 2^32 + seq): a number while below 2^53, else a string (DESIGN §10). */
  generation: number | string;
  leader: number | null;
  vnnmap: number[];
  quorum: boolean;
  nodes: { pnn: number; address: string; flags: string[] }[];
}

/** A node without flags is OK (ctdb's pretty_print_flags). */
export function nodeFlags(n: NodeMapEntry): string[] {
  return n.flags.length === 0 ? ['OK'] : [...n.flags];
}

function isDeleted(n: NodeMapEntry): boolean {
  return n.flags.includes('DELETED');
}

export function statusJson(s: StatusView): StatusJson {
  return {
    pnn: s.pnn,
    generation: Number.isSafeInteger(s.vnnmap.generation) ? s.vnnmap.generation : String(s.vnnmap.generation),
    leader: s.leader,
    vnnmap: [...s.vnnmap.pnns],
    quorum: s.quorum,
    nodes: s.nodes.map((n) => ({ pnn: n.pnn, address: n.address, flags: nodeFlags(n) })),
  };
}

/** ctdb's print_nodemap: "Number of nodes:N" (unless `header` is false), then a row per node. */
export function nodemapLines(nodes: readonly NodeMapEntry[], thisPnn: number, header = true): string[] {
  const deleted = nodes.filter(isDeleted).length;
  const head = deleted === 0 ? `Number of nodes:${nodes.length}` : `Number of nodes:${nodes.length} (including ${deleted} deleted nodes)`;
  const rows = nodes
    .filter((n) => !isDeleted(n))
    .map((n) => `pnn:${n.pnn} ${n.address.padEnd(16)} ${nodeFlags(n).join('|')}${n.pnn === thisPnn ? ' (THIS NODE)' : ''}`);
  return header ? [head, ...rows] : rows;
}

/** ctdb's recovery mode line: a frozen node is in recovery. */
export function recoveryModeLine(frozen: boolean): string {
  return frozen ? 'Recovery mode:RECOVERY (1)' : 'Recovery mode:NORMAL (0)';
}

export function vnnmapLines(v: VnnMapView): string[] {
  // Generation 0 is "no generation yet" (ctdb prints INVALID for its invalid generation).
  const gen = v.generation === 0 ? 'Generation:INVALID' : `Generation:${v.generation}`;
  return [gen, `Size:${v.pnns.length}`, ...v.pnns.map((p, i) => `hash:${i} lmaster:${p}`)];
}

export function statusText(s: StatusView): string {
  const leader = s.leader === null ? 'Leader:UNKNOWN' : `Leader:${s.leader}`;
  const quorum = s.quorum ? [] : ['no quorum: this node reaches no majority of the nodes file, nothing is recovered or served'];
  return lines([...nodemapLines(s.nodes, s.pnn), ...vnnmapLines(s.vnnmap), recoveryModeLine(s.frozen), leader, ...quorum]);
}

export function vnnmapJson(v: VnnMapView): { generation: number; vnnmap: number[] } {
  return { generation: v.generation, vnnmap: [...v.pnns] };
}

export function vnnmapText(v: VnnMapView): string {
  return lines(vnnmapLines(v));
}

/** listnodes: the address of every node that is not deleted, one a line. */
export function listnodesJson(nodes: readonly NodeMapEntry[]): { nodes: { pnn: number; address: string }[] } {
  return { nodes: nodes.filter((n) => !isDeleted(n)).map((n) => ({ pnn: n.pnn, address: n.address })) };
}

export function listnodesText(nodes: readonly NodeMapEntry[]): string {
  return lines(nodes.filter((n) => !isDeleted(n)).map((n) => n.address));
}

export function pingText(p: { pnn: number; rttMs: number }): string {
  return `response from ${p.pnn} time=${(p.rttMs / 1000).toFixed(6)} sec\n`;
}

export function pingJson(p: { pnn: number; rttMs: number }): { pnn: number; rttMs: number } {
  return { pnn: p.pnn, rttMs: p.rttMs };
}

/** Lines joined, each ending with a newline; no lines is no output. */
export function lines(ls: readonly string[]): string {
  return ls.length === 0 ? '' : `${ls.join('\n')}\n`;
}
