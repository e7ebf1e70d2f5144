// Database map, tunables and statistics output (DESIGN §10), in ctdb's text formats
// (ctdb/tools/ctdb.c control_getdbmap, control_getvar, print_statistics).
import type { DbMapEntry, TunableInfo } from '../client-types.js';
import { lines } from './nodes.js';

export function dbIdHex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

export function dbmapJson(dbs: readonly DbMapEntry[]): { dbs: DbMapEntry[] } {
  return { dbs: dbs.map((d) => ({ id: d.id, name: d.name, persistent: d.persistent, path: d.path })) };
}

export function dbmapText(dbs: readonly DbMapEntry[]): string {
  const rows = dbs.map((d) => `dbid:${dbIdHex(d.id)} name:${d.name} path:${d.path}${d.persistent ? ' PERSISTENT' : ''}`);
  return lines([`Number of databases:${dbs.length}`, ...rows]);
}

export function attachJson(d: { name: string; id: number; persistent: boolean }): { db: string; id: number; persistent: boolean } {
  return { db: d.name, id: d.id, persistent: d.persistent };
}

/** ctdb's `%-26s = %u`. */
export function tunableLine(name: string, value: number): string {
  return `${name.padEnd(26)} = ${value}`;
}

export function listvarsText(ts: readonly TunableInfo[]): string {
  return lines(ts.map((t) => tunableLine(t.name, t.value)));
}

export function listvarsJson(ts: readonly TunableInfo[]): { tunables: TunableInfo[] } {
  return {
    tunables: ts.map((t) => ({ name: t.name, value: t.value, unit: t.unit, doc: t.doc, defaultValue: t.defaultValue })),
  };
}

/** ctdb's ` %-22s    %10u` rows (wider names widen the column) under a title naming the node. */
export function statisticsText(s: { pnn: number; counters: Record<string, number> }): string {
  const entries = Object.entries(s.counters);
  const width = Math.max(22, ...entries.map(([name]) => name.length));
  const rows = entries.map(([name, v]) => ` ${name.padEnd(width)}    ${String(v).padStart(10)}`);
  return lines([`Statistics of node ${s.pnn}`, ...rows]);
}
