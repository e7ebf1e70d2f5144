// The vacuum feed (DESIGN §4.1): dbd appends (key, rsn) with a never-reused seq to a db's feed in
// the transaction that writes the tombstone. vacuumd pulls DeletedSince(cursor) until caught up,
// stores the entries and the new cursor in ONE transaction of its own file, and only then acks
// (AckDeleted), so dbd trims only what is safe in vacuumd's file. A changed epoch means the db
// was wiped (dbd restart, recovery push): the feed started over, so the cursor restarts at 0;
// pending items stay (the plan routes them GONE if their records are gone).
import type { Logger } from '@ctdbng/common';
import type { Clock, Dbd } from './dbd-port.js';
import { pendingItemsMax, type FeedCursor, type StateFile } from './state-file.js';

/** Feed pages pulled at most in one pass (the rest waits for the next pass). */
export const feedPagesPerPassMax = 1_000;
/** Entries asked for per DeletedSince. */
export const feedPageEntriesMax = 20_000;

export interface FeedPull {
  entries: number;
  pages: number;
  /** The cursor restarted at 0 because the epoch changed. */
  restarted: boolean;
  /** Pulled nothing because the pending items reached pendingItemsMax. */
  full: boolean;
}

export function feedPageEntries(batchSizeCount: number): number {
  return Math.max(1, Math.min(feedPageEntriesMax, batchSizeCount * 4));
}

export async function pullFeed(dbd: Dbd, state: StateFile, clock: Clock, dbId: number, batchSizeCount: number, log: Logger): Promise<FeedPull> {
  const out: FeedPull = { entries: 0, pages: 0, restarted: false, full: false };
  const limit = feedPageEntries(batchSizeCount);
  let cursor: FeedCursor | undefined = state.cursor(dbId);
  while (out.pages < feedPagesPerPassMax) {
    if (state.totalPending() >= pendingItemsMax) {
      out.full = true;
      log.warn({ db: dbId, pendingItemsMax }, 'pending items at their bound: feed not pulled');
      break;
    }
    const batch = await dbd.deletedSince(dbId, cursor?.seq ?? 0, limit);
    out.pages += 1;
    // Only the epoch says the feed started over: seqs are never reused, and a feed trimmed empty
    // may report a last_seq below our cursor.
    if (cursor !== undefined && batch.epoch !== cursor.epoch) {
      log.info({ dbId, epochBefore: cursor.epoch, epoch: batch.epoch, seqBefore: cursor.seq }, 'vacuum feed restarted (db wiped)');
      cursor = { epoch: batch.epoch, seq: 0 };
      state.storeFeed(dbId, cursor, [], clock.nowMs());
      out.restarted = true;
      continue;
    }
    const fresh = batch.entries.filter((e) => e.seq > (cursor?.seq ?? 0));
    const seqLast = fresh.reduce((m, e) => Math.max(m, e.seq), cursor?.seq ?? 0);
    cursor = { epoch: batch.epoch, seq: seqLast };
    state.storeFeed(dbId, cursor, fresh, clock.nowMs());
    out.entries += fresh.length;
    if (fresh.length > 0) await dbd.ackDeleted(dbId, seqLast);
    if (fresh.length === 0 || seqLast >= batch.lastSeq) break;
  }
  return out;
}
