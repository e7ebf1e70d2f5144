// The merge of a volatile db's copies during recovery (DESIGN §5.3.2, CTDB's recdb_add_traverse),
// on packed pages (proto/ctdbng/v1/recovery.proto; packages/protocol/src/packed-records.ts).
//
// The rule, per key: the highest rsn wins; on equal rsn the copy pulled from the node its own
// header names as dmaster is preferred; otherwise CTDB's rule: the incoming copy replaces the kept
// one only if the kept one names the leader as dmaster. The copies of a key are taken in the order
// of the pulled nodes. Tombstones take part, and a tombstone that wins is pushed as a tombstone
// (DESIGN §5.3.2 drops it): a recovery that fails after some pushes leaves copies of the old
// generation that still count (§5.4), and without the tombstone in the pushed copies the next
// merge would take an older copy with data — a deleted record back. The leader's vacuumd then
// vacuums those tombstones (its install puts them in its vacuum feed). The result is pushed with
// rsn unchanged, dmaster = leader and MIGRATED_WITH_DATA (the leader's install adds rsn + 1, so
// its copy is strictly newest, §2.1 rule 5).
//
// How: every node's pages hold its records in ascending key order (checked on arrival), so the
// merge is one pass over all of them at once (a k-way merge), reading headers in place, fed page
// by page while the pulls go on (PackedMerge). It notes where each winner lies (page, offset) in
// two typed arrays; once every pull has ended it copies the winners into push pages of exact size
// (winners that lie one after the other in a pulled page in one copy), patching dmaster and
// flags. No record becomes a JavaScript object.
import { assert } from '@ctdbng/common';
import {
  comparePackedKeys, frameBytesMax, packedDmaster, packedFlags, packedRecordBytes, packedRsn, RecordFlag,
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
  /** Records pushed (every winner, tombstones included), copies read, distinct keys seen. */
  records: number;
  copies: number;
  keys: number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Records chosen for a push: page (index into `pages`) and offset of each, in key order. */
class Picks {
  page = new Int32Array(1024);
  offset = new Int32Array(1024);
  n = 0;

  constructor(readonly pages: readonly Buffer[]) {}

  add(page: number, offset: number): void {
    if (this.n === this.page.length) {
      // Bounded by the records pulled: every pick is a record of a page already checked.
      const grown = this.n * 2;
      this.page = growInt32(this.page, grown);
      this.offset = growInt32(this.offset, grown);
    }
    this.page[this.n] = page;
    this.offset[this.n] = offset;
    this.n++;
  }
}

function growInt32(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
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
    for (let i = start; i < end; ) {
      // Picks that lie one after the other in the same pulled page go in one copy.
      const page = picks.page[i]!;
      const src = picks.pages[page]!;
      const from = picks.offset[i]!;
      let to = from + packedRecordBytes(src, from);
      let j = i + 1;
      while (j < end && picks.page[j] === page && picks.offset[j] === to) {
        to += packedRecordBytes(src, to);
        j++;
      }
      src.copy(out, o, from, to);
      if (leader !== undefined) {
        for (let q = o; q < o + (to - from); q += packedRecordBytes(out, q)) {
          out.writeUInt32LE(leader, q + 16);
          out.writeUInt32LE((packedFlags(out, q) | RecordFlag.MIGRATED_WITH_DATA) >>> 0, q + 20);
        }
      }
      o += to - from;
      i = j;
    }
    pages.push(out);
    counts.push(end - start);
    start = end;
  }
  return { pages, counts };
}

/** One node's pages for the merge: the pages received (indices into the merge's list), where it stands. */
interface Source {
  from: number;
  pages: number[];
  /** Index into `pages` of the page now read, and the offset in it. */
  at: number;
  offset: number;
  /** No page will follow. */
  ended: boolean;
  records: number;
}

/**
 * The merge, fed page by page while the pulls go on (so it runs while the nodes build their next
 * pages) and finished once every pull has ended. Records are merged as far as it is safe: up to
 * the point where a node that has not ended has no record left to compare, since its next page
 * may hold a smaller key than the other nodes' next ones.
 */
export class PackedMerge {
  private readonly pages: Buffer[] = [];
  private readonly sources: Source[];
  private readonly picks = new Picks(this.pages);
  /** The sources whose next key is the smallest, in source order. */
  private readonly tied: Int32Array;
  private keys = 0;

  /** `from`: the node of each source, in the order the rule takes their copies. */
  constructor(from: readonly number[], private readonly leader: number) {
    this.sources = from.map((pnn) => ({ from: pnn, pages: [], at: 0, offset: 0, ended: false, records: 0 }));
    this.tied = new Int32Array(from.length);
  }

  /** A checked page of source `index` (keys ascending, above its previous page's), `records` records. */
  add(index: number, page: Uint8Array, records: number): void {
    const src = this.sources[index]!;
    assert(!src.ended, 'a page after the end of a pull');
    if (page.length === 0) return;
    src.pages.push(this.pages.length);
    this.pages.push(asBuffer(page));
    src.records += records;
  }

  /** Source `index` has sent its last page. */
  end(index: number): void {
    this.sources[index]!.ended = true;
  }

  /** Merges as far as the pages received allow. */
  advance(): void {
    const { pages, sources, tied } = this;
    const k = sources.length;
    for (;;) {
      let m = 0;
      for (let s = 0; s < k; s++) {
        const src = sources[s]!;
        if (src.at >= src.pages.length) {
          if (src.ended) continue;
          return; // its next page may hold a smaller key: wait for it
        }
        if (m === 0) {
          tied[m++] = s;
          continue;
        }
        const t = sources[tied[0]!]!;
        const c = comparePackedKeys(pages[src.pages[src.at]!]!, src.offset, pages[t.pages[t.at]!]!, t.offset);
        if (c < 0) {
          tied[0] = s;
          m = 1;
        } else if (c === 0) tied[m++] = s;
      }
      if (m === 0) return;
      this.keys++;
      this.pick(m);
      for (let i = 0; i < m; i++) this.next(sources[tied[i]!]!);
    }
  }

  /** Chooses among the m tied copies of one key by the rule; the winner, a tombstone too, is picked for the push. */
  private pick(m: number): void {
    const { pages, sources, tied } = this;
    let w = sources[tied[0]!]!;
    let wPage = pages[w.pages[w.at]!]!;
    for (let i = 1; i < m; i++) {
      const s = sources[tied[i]!]!;
      const page = pages[s.pages[s.at]!]!;
      if (replacesBy(packedRsn(wPage, w.offset), packedDmaster(wPage, w.offset), w.from, packedRsn(page, s.offset), packedDmaster(page, s.offset), s.from, this.leader)) {
        w = s;
        wPage = page;
      }
    }
    this.picks.add(w.pages[w.at]!, w.offset);
  }

  private next(src: Source): void {
    const page = this.pages[src.pages[src.at]!]!;
    const next = src.offset + packedRecordBytes(page, src.offset);
    if (next < page.length) src.offset = next;
    else {
      src.at++;
      src.offset = 0;
    }
  }

  /** The push pages, once every source has ended. */
  result(bounds: PushBounds = pushBoundsDefault): MergeOutcome {
    assert(this.sources.every((s) => s.ended), 'merge result before every pull ended');
    this.advance();
    assert(this.sources.every((s) => s.at === s.pages.length), 'merge ended with records left');
    const copies = this.sources.reduce((n, s) => n + s.records, 0);
    return { ...writePages(this.picks, bounds, this.leader), records: this.picks.n, copies, keys: this.keys };
  }
}

function recordsIn(page: Uint8Array): number {
  let n = 0;
  for (let o = 0; o < page.length; o += packedRecordBytes(page, o)) n++;
  return n;
}

/** The merge of every node's pulled copies (in the order given), as push pages, all at once. */
export function mergePulled(pulled: readonly PulledCopy[], leader: number, bounds: PushBounds = pushBoundsDefault): MergeOutcome {
  const merge = new PackedMerge(pulled.map((p) => p.from), leader);
  for (const [i, p] of pulled.entries()) {
    for (const page of p.pages) merge.add(i, page, recordsIn(page));
    merge.end(i);
  }
  return merge.result(bounds);
}

/** One node's whole copy as push pages, headers unchanged (a persistent db, §5.3.2). */
export function packUnchanged(source: PulledCopy, bounds: PushBounds = pushBoundsDefault): MergeOutcome {
  const pages = source.pages.filter((p) => p.length > 0).map(asBuffer);
  const picks = new Picks(pages);
  for (let p = 0; p < pages.length; p++) {
    for (let o = 0; o < pages[p]!.length; o += packedRecordBytes(pages[p]!, o)) picks.add(p, o);
  }
  return { ...writePages(picks, bounds, undefined), records: picks.n, copies: picks.n, keys: picks.n };
}
