// The merge of a volatile db's copies during recovery (DESIGN §5.3.2, CTDB's recdb_add_traverse),
// on packed pages (proto/ctdbng/v1/recovery.proto; packages/protocol/src/packed-records.ts).
//
// The rule, per key: the highest rsn wins; on equal rsn the copy pulled from the node its own
// header names as dmaster is preferred; otherwise CTDB's rule: the incoming copy replaces the kept
// one only if the kept one names the leader as dmaster. The copies of a key are taken in the order
// of the pulled nodes. Tombstones take part, then are dropped. The result is pushed with rsn
// unchanged, dmaster = leader and MIGRATED_WITH_DATA (the leader's own store adds rsn + 1 at the
// install, so its copy is strictly newest, §2.1 rule 5).
//
// How: every node's pages hold its records in ascending key order (checked on arrival), so the
// merge is one pass over all of them at once (a k-way merge), reading headers in place. It
// notes where each winner lies (page, offset) in two typed arrays, then copies the winners into
// push pages of exact size, patching dmaster and flags. No record becomes a JavaScript object.
import { assert } from '@ctdbng/common';
import {
  comparePackedKeys, frameBytesMax, packedDataBytes, packedDmaster, packedFlags, packedRecordBytes, packedRsn, RecordFlag,
} from '@ctdbng/protocol';

/** Records and bytes per PushDbBatch page; half a frame leaves room for the envelope. */
export const pushRecordsMax = 10_000;
export const pushBytesMax = frameBytesMax / 2;

/** What the rule reads of a copy: its header, and the node it was pulled from. */
export interface CopyHeader {
  rsn: number;
  dmaster: number;
  from: number;
}

/** True when `incoming` replaces `kept` (both copies of the same key). */
export function replaces(kept: CopyHeader, incoming: CopyHeader, leader: number): boolean {
  return replacesBy(kept.rsn, kept.dmaster, kept.from, incoming.rsn, incoming.dmaster, incoming.from, leader);
}

function replacesBy(keptRsn: number, keptDmaster: number, keptFrom: number, rsn: number, dmaster: number, from: number, leader: number): boolean {
  if (rsn !== keptRsn) return rsn > keptRsn;
  const incomingFromDmaster = dmaster === from;
  const keptFromDmaster = keptDmaster === keptFrom;
  if (incomingFromDmaster !== keptFromDmaster) return incomingFromDmaster;
  return keptDmaster === leader;
}

/** One node's pull: its pages in order (each checked: keys strictly ascending across them all). */
export interface PulledCopy {
  from: number;
  pages: readonly Uint8Array[];
  records: number;
}

/** Bounds of one push page (PushDbBatch): records and bytes; a page holds at least one record. */
export interface PushBounds {
  recordsMax: number;
  bytesMax: number;
}

export const pushBoundsDefault: PushBounds = { recordsMax: pushRecordsMax, bytesMax: pushBytesMax };

export interface MergeOutcome {
  /** The push pages, packed, and the records of each. */
  pages: Uint8Array[];
  counts: number[];
  /** Records pushed (live winners), copies read, distinct keys seen. */
  records: number;
  copies: number;
  keys: number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Records chosen for a push: page (index into `pages`) and offset of each, in key order. */
class Picks {
  readonly page: Int32Array;
  readonly offset: Int32Array;
  n = 0;

  constructor(readonly pages: readonly Buffer[], capacity: number) {
    this.page = new Int32Array(capacity);
    this.offset = new Int32Array(capacity);
  }

  add(page: number, offset: number): void {
    assert(this.n < this.page.length, 'more records picked than the pages announced');
    this.page[this.n] = page;
    this.offset[this.n] = offset;
    this.n++;
  }
}

/** Copies the picks into push pages; with `leader`, each header gets dmaster = leader and MIGRATED_WITH_DATA. */
function writePages(picks: Picks, bounds: PushBounds, leader: number | undefined): { pages: Uint8Array[]; counts: number[] } {
  const pages: Uint8Array[] = [];
  const counts: number[] = [];
  let start = 0;
  while (start < picks.n) {
    let end = start;
    let bytes = 0;
    while (end < picks.n && end - start < bounds.recordsMax) {
      const size = packedRecordBytes(picks.pages[picks.page[end]!]!, picks.offset[end]!);
      if (end > start && bytes + size > bounds.bytesMax) break;
      bytes += size;
      end++;
    }
    const out = Buffer.allocUnsafe(bytes);
    let o = 0;
    for (let i = start; i < end; i++) {
      const src = picks.pages[picks.page[i]!]!;
      const at = picks.offset[i]!;
      const size = packedRecordBytes(src, at);
      src.copy(out, o, at, at + size);
      if (leader !== undefined) {
        out.writeUInt32LE(leader, o + 16);
        out.writeUInt32LE((packedFlags(src, at) | RecordFlag.MIGRATED_WITH_DATA) >>> 0, o + 20);
      }
      o += size;
    }
    pages.push(out);
    counts.push(end - start);
    start = end;
  }
  return { pages, counts };
}

/** The flat list of every source's pages (empty ones left out) and where each source's start. */
function flatten(pulled: readonly PulledCopy[]): { pages: Buffer[]; first: number[]; last: number[] } {
  const pages: Buffer[] = [];
  const first: number[] = [];
  const last: number[] = [];
  for (const p of pulled) {
    first.push(pages.length);
    for (const page of p.pages) if (page.length > 0) pages.push(asBuffer(page));
    last.push(pages.length);
  }
  return { pages, first, last };
}

/** The merge of every node's pulled copies (in the order given), as push pages. */
export function mergePulled(pulled: readonly PulledCopy[], leader: number, bounds: PushBounds = pushBoundsDefault): MergeOutcome {
  const { pages, first, last } = flatten(pulled);
  const k = pulled.length;
  const copies = pulled.reduce((n, p) => n + p.records, 0);
  const picks = new Picks(pages, copies);
  /** Per source: its page now (index into pages; = last when done) and the offset in it. */
  const at = Int32Array.from(first);
  const offset = new Int32Array(k);
  const from = pulled.map((p) => p.from);
  /** The sources whose next key is the smallest, in source order. */
  const tied = new Int32Array(k);
  let keys = 0;
  for (;;) {
    let m = 0;
    for (let s = 0; s < k; s++) {
      if (at[s]! >= last[s]!) continue;
      if (m === 0) {
        tied[m++] = s;
        continue;
      }
      const t = tied[0]!;
      const c = comparePackedKeys(pages[at[s]!]!, offset[s]!, pages[at[t]!]!, offset[t]!);
      if (c < 0) {
        tied[0] = s;
        m = 1;
      } else if (c === 0) tied[m++] = s;
    }
    if (m === 0) break;
    keys++;
    let w = tied[0]!;
    let wPage = pages[at[w]!]!;
    let wAt = offset[w]!;
    for (let i = 1; i < m; i++) {
      const s = tied[i]!;
      const page = pages[at[s]!]!;
      const o = offset[s]!;
      if (replacesBy(packedRsn(wPage, wAt), packedDmaster(wPage, wAt), from[w]!, packedRsn(page, o), packedDmaster(page, o), from[s]!, leader)) {
        w = s;
        wPage = page;
        wAt = o;
      }
    }
    if (packedDataBytes(wPage, wAt) > 0) picks.add(at[w]!, wAt);
    for (let i = 0; i < m; i++) {
      const s = tied[i]!;
      const next = offset[s]! + packedRecordBytes(pages[at[s]!]!, offset[s]!);
      if (next < pages[at[s]!]!.length) offset[s] = next;
      else {
        at[s] = at[s]! + 1;
        offset[s] = 0;
      }
    }
  }
  return { ...writePages(picks, bounds, leader), records: picks.n, copies, keys };
}

/** One node's whole copy as push pages, headers unchanged (a persistent db, §5.3.2). */
export function packUnchanged(source: PulledCopy, bounds: PushBounds = pushBoundsDefault): MergeOutcome {
  const { pages } = flatten([source]);
  const picks = new Picks(pages, source.records);
  for (let p = 0; p < pages.length; p++) {
    for (let o = 0; o < pages[p]!.length; o += packedRecordBytes(pages[p]!, o)) picks.add(p, o);
  }
  return { ...writePages(picks, bounds, undefined), records: picks.n, copies: picks.n, keys: picks.n };
}
