// The vacuum feed (DESIGN §4.1): dbd appends (key, rsn) with a never-reused seq to a db's feed in
// the transaction that writes the tombstone. vacuumd pulls DeletedSince(cursor) until caught up,
// stores the entries and the new cursor in ONE transaction of its own file, and only then acks
// (AckDeleted), so dbd trims only what is safe in vacuumd's file. A changed epoch means the db
// was wiped (dbd restart, recovery push): the feed started over, so the cursor restarts at 0;
// pending items stay (the plan routes them GONE if their records are gone).
// A pull is a small state machine: a DeletedSince page in flight, then its AckDeleted, per page.
import type { CoreClock, Logger } from '@ctdbng/common';
import type { DbdReply, FeedBatch } from './dbd-port.js';
import type { DbdRequests } from './dbd-requests.js';
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
  return Math.max(1, Math.min(feedPageEntriesMax, batchSizeCount));
}

export interface FeedDeps {
  req: DbdRequests;
  state: StateFile;
  clock: CoreClock;
  log: Logger;
}

export class FeedPuller {
  private readonly out: FeedPull = { entries: 0, pages: 0, restarted: false, full: false };
  private cursor: FeedCursor | undefined;

  constructor(private readonly d: FeedDeps, private readonly dbId: number, private readonly batchSizeCount: number, private readonly done: (r: DbdReply<FeedPull>) => void) {}

  start(): void {
    this.cursor = this.d.state.cursor(this.dbId);
    this.nextPage();
  }

  private nextPage(): void {
    if (this.out.pages >= feedPagesPerPassMax) return this.finish();
    if (this.d.state.totalPending() >= pendingItemsMax) {
      this.out.full = true;
      this.d.log.warn({ db: this.dbId, pendingItemsMax }, 'pending items at their bound: feed not pulled');
      return this.finish();
    }
    const limit = feedPageEntries(this.batchSizeCount);
    this.d.req.deletedSince(this.dbId, this.cursor?.seq ?? 0, limit, (r) => this.onPage(r));
  }

  private onPage(r: DbdReply<FeedBatch>): void {
    if (!r.ok) return this.done(r);
    const batch = r.value;
    const cursor = this.cursor;
    this.out.pages += 1;
    // Only the epoch says the feed started over: seqs are never reused, and a feed trimmed empty
    // may report a last_seq below our cursor.
    if (cursor !== undefined && batch.epoch !== cursor.epoch) {
      this.d.log.info({ dbId: this.dbId, epochBefore: cursor.epoch, epoch: batch.epoch, seqBefore: cursor.seq }, 'vacuum feed restarted (db wiped)');
      this.cursor = { epoch: batch.epoch, seq: 0 };
      this.d.state.storeFeed(this.dbId, this.cursor, [], this.d.clock.nowMs());
      this.out.restarted = true;
      return this.nextPage();
    }
    const fresh = batch.entries.filter((e) => e.seq > (cursor?.seq ?? 0));
    const seqLast = fresh.reduce((m, e) => Math.max(m, e.seq), cursor?.seq ?? 0);
    this.cursor = { epoch: batch.epoch, seq: seqLast };
    this.d.state.storeFeed(this.dbId, this.cursor, fresh, this.d.clock.nowMs());
    this.out.entries += fresh.length;
    const caughtUp = fresh.length === 0 || seqLast >= batch.lastSeq;
    if (fresh.length === 0) return this.finish();
    this.d.req.ackDeleted(this.dbId, seqLast, (ack) => {
      if (!ack.ok) return this.done(ack);
      return caughtUp ? this.finish() : this.nextPage();
    });
  }

  private finish(): void {
    this.done({ ok: true, value: this.out });
  }
}
