// Packed records (DESIGN §5.3.2, §7): how recovery carries records. PullDbReply.packed_records
// and PushDbBatch.packed_records (proto/ctdbng/v1/recovery.proto) are one buffer per page, not a
// protobuf message per record: each record is a fixed header, then its key, then its data.
//
//   offset  size  field        (every integer little-endian, unsigned)
//        0     4  key length   bytes of key that follow the header (≤ keyBytesMax)
//        4     4  data length  bytes of data after the key (≤ recordBytesMax; 0 = a tombstone)
//        8     8  rsn          below 2^53 (a JavaScript number holds it exactly)
//       16     4  dmaster
//       20     4  flags        RecordFlag bits
//       24        key bytes, then data bytes; the next record's header follows at once
//
// The readers take (page, offset) and allocate nothing: a merge of millions of records walks the
// pages in place. checkPackedPage runs once per page, before any record of it is read.
import { keyBytesMax, recordBytesMax, uint64SafeMax } from './limits.js';

/** Bytes of the fixed header before each record's key. */
export const packedHeaderBytes = 24;

const keyBytesAt = 0;
const dataBytesAt = 4;
const rsnAt = 8;
const dmasterAt = 16;
const flagsAt = 20;
const twoPow32 = 0x1_0000_0000;
/** Keys up to this long compare byte by byte in JavaScript; longer ones natively. */
const keyCompareInlineBytesMax = 64;

/** One record as the packing helpers take and give it (tests, small pages). */
export interface PackedRecord {
  key: Uint8Array;
  rsn: number;
  dmaster: number;
  flags: number;
  data: Uint8Array;
}

function u32(page: Uint8Array, at: number): number {
  return (page[at]! | (page[at + 1]! << 8) | (page[at + 2]! << 16)) + page[at + 3]! * 0x100_0000;
}

function putU32(page: Uint8Array, at: number, v: number): void {
  page[at] = v & 0xff;
  page[at + 1] = (v >>> 8) & 0xff;
  page[at + 2] = (v >>> 16) & 0xff;
  page[at + 3] = (v >>> 24) & 0xff;
}

export function packedKeyBytes(page: Uint8Array, offset: number): number {
  return u32(page, offset + keyBytesAt);
}

export function packedDataBytes(page: Uint8Array, offset: number): number {
  return u32(page, offset + dataBytesAt);
}

export function packedRsn(page: Uint8Array, offset: number): number {
  return u32(page, offset + rsnAt) + u32(page, offset + rsnAt + 4) * twoPow32;
}

export function packedDmaster(page: Uint8Array, offset: number): number {
  return u32(page, offset + dmasterAt);
}

export function packedFlags(page: Uint8Array, offset: number): number {
  return u32(page, offset + flagsAt);
}

/** Header, key and data of the record at `offset`: where the next record starts, relative to it. */
export function packedRecordBytes(page: Uint8Array, offset: number): number {
  return packedHeaderBytes + u32(page, offset + keyBytesAt) + u32(page, offset + dataBytesAt);
}

/** The key of the record at `offset` (a view into the page, no copy). */
export function packedKey(page: Uint8Array, offset: number): Uint8Array {
  const start = offset + packedHeaderBytes;
  return page.subarray(start, start + packedKeyBytes(page, offset));
}

/** The data of the record at `offset` (a view into the page, no copy). */
export function packedData(page: Uint8Array, offset: number): Uint8Array {
  const start = offset + packedHeaderBytes + packedKeyBytes(page, offset);
  return page.subarray(start, start + packedDataBytes(page, offset));
}

/** Writes the header of a record at `offset`; the caller writes key and data after it. */
export function writePackedHeader(page: Uint8Array, offset: number, keyBytes: number, dataBytes: number, rsn: number, dmaster: number, flags: number): void {
  putU32(page, offset + keyBytesAt, keyBytes);
  putU32(page, offset + dataBytesAt, dataBytes);
  putU32(page, offset + rsnAt, rsn >>> 0);
  putU32(page, offset + rsnAt + 4, Math.floor(rsn / twoPow32));
  putU32(page, offset + dmasterAt, dmaster);
  putU32(page, offset + flagsAt, flags);
}

function compareBytes(a: Uint8Array, aStart: number, aBytes: number, b: Uint8Array, bStart: number, bBytes: number): number {
  const n = aBytes < bBytes ? aBytes : bBytes;
  if (n > keyCompareInlineBytesMax) {
    const c = Buffer.compare(a.subarray(aStart, aStart + aBytes), b.subarray(bStart, bStart + bBytes));
    return c;
  }
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i]!;
    const y = b[bStart + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return aBytes === bBytes ? 0 : aBytes < bBytes ? -1 : 1;
}

/** The order of keys (unsigned bytes, a prefix first: SQLite's BLOB order and Buffer.compare's). */
export function comparePackedKeys(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): number {
  return compareBytes(a, aOffset + packedHeaderBytes, packedKeyBytes(a, aOffset), b, bOffset + packedHeaderBytes, packedKeyBytes(b, bOffset));
}

/** The record's key at `offset` compared with a plain key. */
export function comparePackedKeyWith(page: Uint8Array, offset: number, key: Uint8Array): number {
  return compareBytes(page, offset + packedHeaderBytes, packedKeyBytes(page, offset), key, 0, key.length);
}

/** One page of the given records, in the given order (tests and small pages; the hot paths write in place). */
export function packRecords(records: Iterable<PackedRecord>): Uint8Array {
  const list = [...records];
  let bytes = 0;
  for (const r of list) bytes += packedHeaderBytes + r.key.length + r.data.length;
  const page = Buffer.allocUnsafe(bytes);
  let o = 0;
  for (const r of list) {
    writePackedHeader(page, o, r.key.length, r.data.length, r.rsn, r.dmaster, r.flags);
    page.set(r.key, o + packedHeaderBytes);
    page.set(r.data, o + packedHeaderBytes + r.key.length);
    o += packedHeaderBytes + r.key.length + r.data.length;
  }
  return page;
}

/** Every record of a checked page, key and data as views into it (tests and small pages). */
export function unpackRecords(page: Uint8Array): PackedRecord[] {
  const out: PackedRecord[] = [];
  for (let o = 0; o < page.length; o += packedRecordBytes(page, o)) {
    out.push({ key: packedKey(page, o), rsn: packedRsn(page, o), dmaster: packedDmaster(page, o), flags: packedFlags(page, o), data: packedData(page, o) });
  }
  return out;
}

export interface PackedPageExpect {
  /** The number of records the message says the page holds. */
  records: number;
  /** Keys strictly ascending (a pull page, which a merge walks in order). */
  ascending: boolean;
  /** With ascending: the first key must be above this one (the previous page's last). */
  after?: Uint8Array;
}

/** `lastOffset`: where the page's last record starts (-1 for an empty page). */
export type PackedPageCheck = { ok: true; lastOffset: number } | { ok: false; why: string };

/**
 * Checks a page received from another process before any record of it is read: every header and
 * record inside the page, key and data within the protocol limits, rsn exact in a number, exactly
 * `records` records, and (ascending) keys in strictly ascending order after `after`.
 */
export function checkPackedPage(page: Uint8Array, expect: PackedPageExpect): PackedPageCheck {
  let o = 0;
  let n = 0;
  let last = -1;
  while (o < page.length) {
    if (n === expect.records) return { ok: false, why: `packed page holds more than ${expect.records} records` };
    if (page.length - o < packedHeaderBytes) return { ok: false, why: `packed record ${n}: header cut short at byte ${o} of ${page.length}` };
    const keyBytes = packedKeyBytes(page, o);
    const dataBytes = packedDataBytes(page, o);
    if (keyBytes > keyBytesMax) return { ok: false, why: `packed record ${n}: key of ${keyBytes} bytes exceeds ${keyBytesMax}` };
    if (dataBytes > recordBytesMax) return { ok: false, why: `packed record ${n}: data of ${dataBytes} bytes exceeds ${recordBytesMax}` };
    if (packedRsn(page, o) > uint64SafeMax) return { ok: false, why: `packed record ${n}: rsn above 2^53` };
    const next = o + packedHeaderBytes + keyBytes + dataBytes;
    if (next > page.length) return { ok: false, why: `packed record ${n}: runs past the end of the page (${next} > ${page.length} bytes)` };
    if (expect.ascending) {
      const below = last >= 0 ? comparePackedKeys(page, last, page, o) >= 0 : expect.after !== undefined && comparePackedKeyWith(page, o, expect.after) <= 0;
      if (below) return { ok: false, why: `packed record ${n}: keys not strictly ascending` };
    }
    last = o;
    o = next;
    n++;
  }
  if (n !== expect.records) return { ok: false, why: `packed page holds ${n} records, not ${expect.records}` };
  return { ok: true, lastOffset: last };
}
