// One db file of one node (DESIGN §8) as dbd uses it: the tables plus the transactions of a
// request (each request's writes in one SQLite transaction, busy retried, §2.2).
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyPragmas, createSchema } from './schema.js';
import { RecordsTable, type RecordHeader, type StoredRecord } from './records.js';
import { LocksTable, type LockRequest, type LockRow } from './locks.js';
import { DeletedFeed } from './deleted-feed.js';
import { MetaRow, type MetaUpdate } from './meta.js';
import { retryBusy } from './busy.js';
import { RecordFlags } from './flags.js';

export interface DbIdentity {
  dbId: number;
  name: string;
  persistent: boolean;
  pnn: number;
}

export type LockResult =
  | { result: 'ok'; record: StoredRecord | undefined }
  | { result: 'locked'; row: LockRow };

export type StoreResult = 'ok' | 'lock_lost';

const empty = Buffer.alloc(0);

export class DbFile {
  readonly sql: Database;
  readonly records: RecordsTable;
  readonly locks: LocksTable;
  readonly feed: DeletedFeed;
  readonly meta: MetaRow;

  private constructor(readonly path: string, readonly identity: DbIdentity, sql: Database) {
    this.sql = sql;
    this.records = new RecordsTable(sql);
    this.locks = new LocksTable(sql);
    this.feed = new DeletedFeed(sql);
    this.meta = new MetaRow(sql, identity);
    this.runTx = sql.transaction((fn: () => unknown) => fn());
  }

  /** Opens (creating if needed) a db file for the daemon that owns it. ':memory:' for unit tests. */
  static open(path: string, identity: DbIdentity): DbFile {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sql = new BetterSqlite3(path);
    // auto_vacuum only takes effect before the file has its first page, and journal_mode=WAL
    // (in applyPragmas) writes that page: set it first, or a new file stays auto_vacuum=NONE.
    sql.pragma('auto_vacuum = INCREMENTAL');
    applyPragmas(sql, { persistent: identity.persistent, autocheckpoint: false });
    createSchema(sql);
    return new DbFile(path, identity, sql);
  }

  /** An open recovery push (§5.3.2): every write joins its transaction until commit or abort. */
  private pushing = false;

  /**
   * One transaction runner for every tx(): better-sqlite3's transaction() builds four wrapper
   * functions per call, which cost dbd a few µs on every request when made per transaction.
   */
  private readonly runTx: ((fn: () => unknown) => unknown) & { immediate(fn: () => unknown): unknown; deferred(fn: () => unknown): unknown };

  /** Runs fn in one BEGIN IMMEDIATE transaction, retrying while another process writes. */
  tx<T>(fn: () => T): T {
    if (this.pushing) return fn();
    return retryBusy(() => this.runTx.immediate(fn) as T);
  }

  /**
   * Runs fn (reads only) in one deferred transaction: one snapshot for all its reads, without the
   * write lock, so shared-access clients and other writers go on meanwhile.
   */
  read<T>(fn: () => T): T {
    if (this.pushing) return fn();
    return retryBusy(() => this.runTx.deferred(fn) as T);
  }

  get pushOpen(): boolean {
    return this.pushing;
  }

  /**
   * Starts replacing the db's contents (recovery push, §5.3.2): one transaction holds the wipe,
   * every batch and the meta update, so readers see the old contents or the new, never a mix,
   * and an aborted push leaves the old contents. The vacuum feed is kept (its cursor lives on).
   */
  beginPush(): void {
    if (this.pushing) this.abortPush();
    retryBusy(() => this.sql.exec('BEGIN IMMEDIATE'));
    this.pushing = true;
    this.records.wipe();
    this.locks.wipe();
  }

  /** Adds pushed records as they come (rsn unchanged: the leader's +1 waits for the install, §5.3.2). */
  pushRecords(records: readonly { key: Uint8Array; rsn: number; dmaster: number; flags: number; data: Uint8Array }[]): void {
    if (!this.pushing) throw new Error('pushRecords without beginPush');
    for (const r of records) this.records.put(r.key, { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, r.data);
  }

  /**
   * Ends the push: the copy now belongs to `generation` (§5.4, in the push's transaction). A
   * member's copy is the merge and valid; a witness's is empty and invalid.
   */
  commitPush(generation: number, valid: boolean): void {
    if (!this.pushing) throw new Error('commitPush without beginPush');
    this.meta.set({ generation, valid: valid ? 1 : 0 });
    this.sql.exec('COMMIT');
    this.pushing = false;
  }

  /**
   * The install step on this db (§5.3.3), one transaction: a member's copy filled by this
   * generation's push becomes valid, any other copy invalid; the recovery leader's pushed copy
   * gets rsn + 1 (it is the dmaster of every merged record, §2.1.5), and its tombstones go into
   * its vacuum feed. Returns the records bumped.
   */
  install(generation: number, o: { member: boolean; leader: boolean }): number {
    return this.tx(() => {
      const pushed = this.meta.get().generation === generation;
      const bumped = pushed && o.leader ? this.records.bumpAllRsn() : 0;
      // The leader is the dmaster of every merged record, the tombstones that won too: into its
      // vacuum feed, at their new rsn, so that its vacuumd removes them everywhere.
      if (bumped > 0) this.feed.appendTombstones(this.meta.get().wipe_epoch);
      this.meta.set({ valid: pushed && o.member ? 1 : 0 });
      return bumped;
    });
  }

  abortPush(): void {
    if (!this.pushing) return;
    this.pushing = false;
    if (this.sql.inTransaction) this.sql.exec('ROLLBACK');
  }

  /** Writes meta columns in a write transaction (busy retried: clients may be writing). */
  setMeta(update: MetaUpdate): void {
    this.tx(() => this.meta.set(update));
  }

  /** Renews the shared-access fence (§2.2) in a write transaction. */
  setLease(leaseUntilNs: number): void {
    this.tx(() => this.meta.setLease(leaseUntilNs));
  }

  /** Takes the record lock if nobody holds it; returns the record as it is under the lock. */
  lock(key: Uint8Array, req: LockRequest): LockResult {
    return this.tx(() => {
      if (!this.locks.take(key, req)) return { result: 'locked', row: this.locks.get(key)! };
      return { result: 'ok', record: this.records.get(key) };
    });
  }

  /**
   * lock() for a record this node must be dmaster of, with the record read in the same
   * transaction: `elsewhere` (nothing written) when it has no copy here or another dmaster.
   */
  lockIfDmaster(key: Uint8Array, pnn: number, req: LockRequest): LockResult | { result: 'elsewhere'; record: StoredRecord | undefined } {
    return this.tx(() => {
      const record = this.records.get(key);
      if (record === undefined || record.dmaster !== pnn) return { result: 'elsewhere', record };
      if (!this.locks.take(key, req)) return { result: 'locked', row: this.locks.get(key)! };
      return { result: 'ok', record };
    });
  }

  /**
   * A client's store or delete under the lock named by token (§2.1.6): rsn and dmaster stay;
   * a delete writes a tombstone and appends to the vacuum feed in the same transaction.
   */
  storeUnderLock(key: Uint8Array, token: number, data: Uint8Array | undefined, unlock: boolean): StoreResult {
    return this.tx(() => {
      const row = this.locks.get(key);
      if (row === undefined || row.holder === '' || row.token !== token) return 'lock_lost';
      const rec = this.records.get(key);
      if (rec === undefined) return 'lock_lost';
      const value = data ?? empty;
      const flags = value.length > 0 ? rec.flags & ~RecordFlags.AUTOMATIC : rec.flags;
      this.records.setData(key, value, flags);
      if (value.length === 0) this.feed.append(key, rec.rsn, this.meta.get().wipe_epoch);
      if (unlock) this.locks.release(key, token);
      return 'ok';
    });
  }

  unlock(key: Uint8Array, token: number): boolean {
    return this.tx(() => this.locks.release(key, token));
  }

  /** Creates the lmaster's empty record for an unknown key (§2.1.3) and enters it in the feed. */
  createAutomatic(key: Uint8Array, pnn: number): StoredRecord {
    const header: RecordHeader = { rsn: 1, dmaster: pnn, flags: RecordFlags.AUTOMATIC };
    this.tx(() => {
      this.records.put(key, header, empty);
      this.feed.append(key, header.rsn, this.meta.get().wipe_epoch);
    });
    return { key: Buffer.from(key), ...header, data: empty };
  }

  /** Wipes every row but meta (a wipe never replaces the file, §2.2) and starts a new feed epoch. */
  wipe(): void {
    this.tx(() => {
      this.records.wipe();
      this.locks.wipe();
      this.feed.wipe();
      this.meta.set({ wipe_epoch: this.meta.get().wipe_epoch + 1 });
    });
  }

  /** Incremental vacuum of at most `pages` free pages (§4.6); returns what is left. */
  reclaim(pages: number): { freelistPages: number; pageCount: number } {
    if (!this.pushing) this.sql.pragma(`incremental_vacuum(${Math.max(0, Math.floor(pages))})`);
    return {
      freelistPages: this.sql.pragma('freelist_count', { simple: true }) as number,
      pageCount: this.sql.pragma('page_count', { simple: true }) as number,
    };
  }

  checkpoint(): void {
    this.sql.pragma('wal_checkpoint(PASSIVE)');
  }

  close(): void {
    if (this.sql.open) this.sql.close();
  }
}
