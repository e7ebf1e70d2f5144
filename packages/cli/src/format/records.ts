// Record output of readkey, catdb and cattdb (DESIGN §10): ctdb's text blocks and the JSON shapes
// the tests depend on.
import { recordFlagNames } from '@ctdbng/protocol';
import type { RecordHeader, TraversedRecord } from '../client-types.js';
import { ctdbDataLine, ctdbEscape, textAndHex } from './bytes.js';

export interface RecordJson {
  key: string;
  keyHex: string;
  rsn: number;
  dmaster: number;
  flags: string[];
  data: string;
  dataHex: string;
}

export function recordJson(r: TraversedRecord): RecordJson {
  const key = textAndHex(r.key);
  const data = textAndHex(r.data);
  return {
    key: key.text,
    keyHex: key.hex,
    rsn: Number(r.header.rsn),
    dmaster: r.header.dmaster,
    flags: recordFlagNames(r.header.flags),
    data: data.text,
    dataHex: data.hex,
  };
}

/** `flags: 0x00000001 MIGRATED_WITH_DATA` as ctdb's dump_ltdb_header. */
export function flagsLine(flags: number): string {
  const names = recordFlagNames(flags);
  const hex = (flags >>> 0).toString(16).padStart(8, '0');
  return `flags: 0x${hex}${names.map((n) => ` ${n}`).join('')}`;
}

export function headerLines(h: RecordHeader): string[] {
  return [`dmaster: ${h.dmaster}`, `rsn: ${String(h.rsn)}`, flagsLine(h.flags)];
}

/** One record block of catdb/cattdb, ending with its blank line. */
export function recordText(r: TraversedRecord): string {
  return [ctdbDataLine('key', r.key), ...headerLines(r.header), ctdbDataLine('data', r.data), '', ''].join('\n');
}

/** catdb ends with "Dumped N records", cattdb with "Dumped N record(s)", as ctdb. */
export function dumpedLine(count: number, local: boolean): string {
  return local ? `Dumped ${count} record(s)\n` : `Dumped ${count} records\n`;
}

export interface ReadkeyResult {
  db: string;
  key: Buffer;
  found: boolean;
  data: Buffer;
}

export function readkeyJson(r: ReadkeyResult): { db: string; key: string; found: boolean; data: string; dataHex: string } {
  const data = textAndHex(r.data);
  return { db: r.db, key: textAndHex(r.key).text, found: r.found, data: data.text, dataHex: data.hex };
}

/** ctdb's `Data: size:N ptr:[...]`; bytes outside printable ASCII are shown as \XX. */
export function readkeyText(r: ReadkeyResult): string {
  return `Data: size:${r.data.length} ptr:[${ctdbEscape(r.data)}]\n`;
}
