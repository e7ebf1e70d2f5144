// vacuumd's own SQLite file ($CTDBNG_BASE/db/vacuumd.sqlite, DESIGN §4.1): the feed cursor per db
// and the pending work items, so a restart (even kill -9) loses no deletion. Every change of a
// step is one transaction of this file; vacuumd never opens a db file of dbd's.
import Database from 'better-sqlite3';
import { assert } from '@ctdbng/common';

/** Pending items kept at most; past it the feed is not pulled (dbd keeps the entries meanwhile). */
export const pendingItemsMax = 10_000_000;

export interface FeedCursor {
  epoch: number;
  seq: number;
}

export interface PendingItem {
  dbId: number;
  key: Buffer;
  rsn: number;
  attempts: number;
  nextTryMs: number;
  firstSeenMs: number;
}

interface ItemRow {
  db_id: number;
  key: Buffer;
  rsn: number;
  attempts: number;
  next_try_ms: number;
  first_seen_ms: number;
}

const schema = `
CREATE TABLE IF NOT EXISTS feed_cursor (
  db_id INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_items (
  db_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  rsn INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_try_ms INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (db_id, key)
) WITHOUT ROWID;
`;

function toItem(r: ItemRow): PendingItem {
  return { dbId: r.db_id, key: r.key, rsn: r.rsn, attempts: r.attempts, nextTryMs: r.next_try_ms, firstSeenMs: r.first_seen_ms };
}

function prepare(d: Database.Database) {
  return {
    cursorGet: d.prepare<[number], { epoch: number; seq: number }>('SELECT epoch, seq FROM feed_cursor WHERE db_id = ?'),
    cursorSet: d.prepare('INSERT INTO feed_cursor (db_id, epoch, seq) VALUES (?, ?, ?) ON CONFLICT (db_id) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq'),
    // A newer tombstone of a pending key replaces it and is tried at once; an older one is ignored.
    upsert: d.prepare(`INSERT INTO pending_items (db_id, key, rsn, attempts, next_try_ms, first_seen_ms) VALUES (?, ?, ?, 0, ?, ?)
      ON CONFLICT (db_id, key) DO UPDATE SET rsn = excluded.rsn, attempts = 0, next_try_ms = excluded.next_try_ms
      WHERE excluded.rsn > pending_items.rsn`),
    insertIfAbsent: d.prepare('INSERT OR IGNORE INTO pending_items (db_id, key, rsn, attempts, next_try_ms, first_seen_ms) VALUES (?, ?, ?, 0, ?, ?)'),
    due: d.prepare<[number, Buffer, number, number], ItemRow>(
      'SELECT * FROM pending_items WHERE db_id = ? AND key > ? AND next_try_ms <= ? ORDER BY key LIMIT ?'),
    get: d.prepare<[number, Buffer], ItemRow>('SELECT * FROM pending_items WHERE db_id = ? AND key = ?'),
    remove: d.prepare('DELETE FROM pending_items WHERE db_id = ? AND key = ? AND rsn = ?'),
    reschedule: d.prepare('UPDATE pending_items SET attempts = ?, next_try_ms = ? WHERE db_id = ? AND key = ? AND rsn = ?'),
    count: d.prepare<[number], { n: number; failed: number | null; oldest: number | null }>(
      'SELECT count(*) AS n, sum(attempts > 0) AS failed, min(first_seen_ms) AS oldest FROM pending_items WHERE db_id = ?'),
    total: d.prepare<[], { n: number }>('SELECT count(*) AS n FROM pending_items'),
    nextDue: d.prepare<[], { t: number | null }>('SELECT min(next_try_ms) AS t FROM pending_items'),
  };
}

export class StateFile {
  private readonly db: Database.Database;
  private readonly st: ReturnType<typeof prepare>;

  /** path ':memory:' for tests. WAL, synchronous=NORMAL: a commit survives a vacuumd crash. */
  constructor(path: string) {
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(schema);
    this.st = prepare(this.db);
  }

  cursor(dbId: number): FeedCursor | undefined {
    return this.st.cursorGet.get(dbId);
  }

  /** Stores feed entries and the cursor after them in one transaction. */
  storeFeed(dbId: number, cursor: FeedCursor, entries: readonly { key: Uint8Array; rsn: number }[], nowMs: number): void {
    this.db.transaction(() => {
      for (const e of entries) this.st.upsert.run(dbId, Buffer.from(e.key), e.rsn, nowMs, nowMs);
      this.st.cursorSet.run(dbId, cursor.epoch, cursor.seq);
    })();
    const stored = this.cursor(dbId);
    assert(stored !== undefined && stored.seq === cursor.seq, 'feed cursor not stored');
  }

  /** Adds tombstones found by a full scan that are not pending yet; returns how many were new. */
  addIfAbsent(dbId: number, keys: readonly { key: Uint8Array; rsn: number }[], nowMs: number): number {
    let added = 0;
    this.db.transaction(() => {
      for (const k of keys) added += this.st.insertIfAbsent.run(dbId, Buffer.from(k.key), k.rsn, nowMs, nowMs).changes;
    })();
    return added;
  }

  /** Up to limit items of dbId with key > afterKey due at dueMs, in key order. */
  due(dbId: number, afterKey: Buffer, dueMs: number, limit: number): PendingItem[] {
    return this.st.due.all(dbId, afterKey, dueMs, limit).map(toItem);
  }

  get(dbId: number, key: Uint8Array): PendingItem | undefined {
    const r = this.st.get.get(dbId, Buffer.from(key));
    return r === undefined ? undefined : toItem(r);
  }

  has(dbId: number, key: Uint8Array): boolean {
    return this.get(dbId, key) !== undefined;
  }

  /**
   * Applies a batch's outcomes in one transaction: done items are removed, the others get their
   * next try. Only the row with the rsn the batch worked on is touched: a newer tombstone stored
   * by the feed meanwhile stays pending.
   */
  applyOutcomes(dbId: number, done: readonly PendingItem[], retry: readonly { item: PendingItem; attempts: number; nextTryMs: number }[]): void {
    this.db.transaction(() => {
      for (const it of done) this.st.remove.run(dbId, it.key, it.rsn);
      for (const r of retry) this.st.reschedule.run(r.attempts, r.nextTryMs, dbId, r.item.key, r.item.rsn);
    })();
  }

  counts(dbId: number): { pending: number; failed: number; oldestFirstSeenMs: number | undefined } {
    const r = this.st.count.get(dbId)!;
    return { pending: r.n, failed: r.failed ?? 0, oldestFirstSeenMs: r.oldest ?? undefined };
  }

  totalPending(): number {
    return this.st.total.get()!.n;
  }

  /** The earliest next try of any pending item, for the shell's wake-up timer. */
  nextDueMs(): number | undefined {
    return this.st.nextDue.get()!.t ?? undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
