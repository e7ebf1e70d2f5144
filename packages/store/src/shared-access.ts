// Shared local access (DESIGN §2.2): a client on the node's host locks and updates records in the
// node's db file directly, in short BEGIN IMMEDIATE transactions, and falls back to dbd whenever
// the record is not here, locked, marked, the db frozen, or the fence (lease, incarnation) fails.
// The steps below are the protocol; packages/store/README.md writes them out for other languages.
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { applyPragmas } from './schema.js';
import { busyRetryNsMaxClient, retryBusy } from './busy.js';
import { RecordFlags } from './flags.js';
import { rsnOfStore, type RecordHeader } from './records.js';

/** Why a shared-access step handed the work to dbd. */
export type Fallback = 'frozen' | 'fence' | 'not_dmaster' | 'absent' | 'locked';

export type SharedLockResult =
  | { ok: true; header: RecordHeader; data: Buffer; token: number; expiresNs: number }
  | { ok: false; fallback: Fallback };

export type SharedWriteResult = { ok: true } | { ok: false; fallback: 'frozen' | 'fence' } | { ok: false; lockLost: true };

/**
 * The lock step's row, read raw (an array in the SELECT's column order): building an object
 * with named properties per row cost ~1 µs of a lock+store+unlock in better-sqlite3.
 */
type LockView = [
  frozen: number, leaseUntilNs: number, incarnation: number, pnn: number, lockLeaseMs: number, wipeEpoch: number,
  rsn: number | null, dmaster: number | null, flags: number | null, data: Buffer | null, lockKey: Buffer | null,
];

interface FenceView {
  frozen: number;
  lease_until_ns: number;
  incarnation: number;
  wipe_epoch: number;
  lock_holder: string | null;
  lock_token: number | null;
  rsn: number | null;
  flags: number | null;
}

/** A token no other holder uses: random 48 bits (tokens of dbd are drawn the same way). */
export function newLockToken(): number {
  return randomInt(1, 2 ** 48 - 1);
}

/** The host's CLOCK_MONOTONIC and random tokens; a simulation passes its virtual clock and seeded tokens. */
export interface SharedAccessEnv {
  nowNs(): number;
  newLockToken(): number;
}

const hostEnv: SharedAccessEnv = { nowNs: () => Number(process.hrtime.bigint()), newLockToken };

/** The record as an update step read it, and fn's answer: what is stored. */
export type SharedUpdateResult =
  | { ok: true; header: RecordHeader; data: Buffer }
  | { ok: false; fallback: Fallback };

/**
 * fn of an update step: the current data (empty for a tombstone) and header in, the new data
 * out (empty: delete). It runs inside the write transaction, so it must be quick and must not
 * touch this db file; a throw rolls the step back and reaches the caller.
 */
export type UpdateFn = (current: Buffer, header: RecordHeader) => Uint8Array;

type Tx<A extends unknown[], R> = ((...args: A) => R) & { immediate(...args: A): R };

export class SharedAccessDb {
  private readonly sql: Database;
  private readonly lockView: Statement<[Uint8Array, Uint8Array], LockView>;
  private readonly fenceView: Statement<[Uint8Array, Uint8Array], FenceView>;
  private readonly insertLock: Statement<[Uint8Array, string, number, number, number]>;
  private readonly setData: Statement<[number, Uint8Array, number, Uint8Array]>;
  private readonly setDataIfHeld: Statement<[number, Uint8Array, number, Uint8Array, number, number, Uint8Array, number]>;
  private readonly appendDeleted: Statement<[Uint8Array, number, number]>;
  private readonly appendDeletedOf: Statement<[Uint8Array]>;
  private readonly release: Statement<[Uint8Array, number]>;
  private readonly releaseMarked: Statement<[Uint8Array, number]>;
  private readonly holder: string;
  /** Opened here (closed by close()), or a connection the caller owns. */
  private readonly owned: boolean;
  // Each step's transaction is built once: better-sqlite3's transaction() makes four wrapper
  // functions per call, which cost a tenth of a lock+store+unlock when made per step.
  private readonly lockTx: Tx<[Uint8Array], SharedLockResult>;
  private readonly storeTx: Tx<[Uint8Array, number, Uint8Array, boolean], SharedWriteResult>;
  private readonly unlockTx: Tx<[Uint8Array, number], SharedWriteResult>;
  private readonly updateTx: Tx<[Uint8Array, UpdateFn], SharedUpdateResult>;

  /**
   * @param file the db file's path, or an open connection to it (a simulation runs dbd and its
   *   shared-access clients in one process over one in-memory db; each step is the same SQL).
   * @param incarnation the dbd incarnation seen at connect; a different one in meta means dbd
   *   restarted (and wiped): every step falls back.
   */
  constructor(file: string | Database, readonly pnn: number, readonly incarnation: number, readonly pid: number, private readonly env: SharedAccessEnv = hostEnv) {
    this.owned = typeof file === 'string';
    this.sql = typeof file === 'string' ? new BetterSqlite3(file, { fileMustExist: true }) : file;
    if (this.owned) applyPragmas(this.sql, { persistent: false, autocheckpoint: false });
    this.holder = `sa:${pid}`;
    this.lockView = this.sql.prepare<[Uint8Array, Uint8Array], LockView>(
      'SELECT m.frozen, m.lease_until_ns, m.incarnation, m.pnn, m.lock_lease_ms, m.wipe_epoch, r.rsn, r.dmaster, r.flags, r.data, l.key AS lock_key ' +
        'FROM meta m LEFT JOIN records r ON r.key = ? LEFT JOIN locks l ON l.key = ? WHERE m.id = 0',
    ).raw(true);
    this.fenceView = this.sql.prepare(
      'SELECT m.frozen, m.lease_until_ns, m.incarnation, m.wipe_epoch, l.holder AS lock_holder, l.token AS lock_token, r.rsn, r.flags ' +
        'FROM meta m LEFT JOIN locks l ON l.key = ? LEFT JOIN records r ON r.key = ? WHERE m.id = 0',
    );
    this.insertLock = this.sql.prepare('INSERT INTO locks (key, holder, pid, expires_ns, token, pending_migration) VALUES (?, ?, ?, ?, ?, 0)');
    // Plain '?' only: better-sqlite3 takes '?NNN' for a named parameter and refuses positional values.
    this.setData = this.sql.prepare(`UPDATE records SET ${rsnOfStore}, data = ?, flags = ? WHERE key = ?`);
    this.appendDeleted = this.sql.prepare('INSERT INTO deleted (key, rsn, epoch) VALUES (?, ?, ?)');
    // The store step's checks folded into its UPDATE (README §4, Store): one statement when they
    // pass, which is nearly always; when it changes no row, fenceView says which check failed.
    this.setDataIfHeld = this.sql.prepare(
      `UPDATE records SET ${rsnOfStore}, data = ?, flags = CASE WHEN ? > 0 THEN flags & ~${RecordFlags.AUTOMATIC} ELSE flags END WHERE key = ? ` +
        'AND EXISTS (SELECT 1 FROM meta m WHERE m.id = 0 AND m.frozen = 0 AND m.incarnation = ? AND m.lease_until_ns > ?) ' +
        "AND EXISTS (SELECT 1 FROM locks l WHERE l.key = ? AND l.holder != '' AND l.token = ?)",
    );
    this.appendDeletedOf = this.sql.prepare('INSERT INTO deleted (key, rsn, epoch) SELECT r.key, r.rsn, m.wipe_epoch FROM records r, meta m WHERE r.key = ? AND m.id = 0');
    this.release = this.sql.prepare('DELETE FROM locks WHERE key = ? AND token = ? AND pending_migration = 0');
    this.releaseMarked = this.sql.prepare("UPDATE locks SET holder = '', pid = 0, expires_ns = 0, token = 0 WHERE key = ? AND token = ? AND holder != ''");
    this.lockTx = this.sql.transaction((key: Uint8Array) => this.lockStep(key));
    this.storeTx = this.sql.transaction((key: Uint8Array, token: number, data: Uint8Array, unlock: boolean) => this.storeStep(key, token, data, unlock));
    this.unlockTx = this.sql.transaction((key: Uint8Array, token: number) => this.unlockStep(key, token));
    this.updateTx = this.sql.transaction((key: Uint8Array, fn: UpdateFn) => this.updateStep(key, fn));
  }

  private fenceOk(v: { lease_until_ns: number; incarnation: number }, now: number): boolean {
    return v.incarnation === this.incarnation && v.lease_until_ns > now;
  }

  /** The checks of the lock step (and of update), in the README's order; undefined: go ahead. */
  private lockRefusal(v: LockView, now: number): Fallback | undefined {
    const [frozen, leaseUntilNs, incarnation, pnn, , , rsn, dmaster, , , lockKey] = v;
    if (frozen !== 0) return 'frozen';
    if (!this.fenceOk({ lease_until_ns: leaseUntilNs, incarnation }, now)) return 'fence';
    if (rsn === null) return 'absent';
    if (dmaster !== pnn) return 'not_dmaster';
    if (lockKey !== null) return 'locked';
    return undefined;
  }

  /** Step 1: lock. Frozen, fence, not dmaster here, absent or any lock row → fall back to dbd. */
  lock(key: Uint8Array): SharedLockResult {
    return retryBusy(() => this.lockTx.immediate(key), busyRetryNsMaxClient);
  }

  private lockStep(key: Uint8Array): SharedLockResult {
    const now = this.env.nowNs();
    const v = this.lockView.get(key, key)!;
    const refused = this.lockRefusal(v, now);
    if (refused !== undefined) return { ok: false, fallback: refused };
    const [, , , , lockLeaseMs, , rsn, dmaster, flags, data] = v;
    const token = this.env.newLockToken();
    const expiresNs = now + lockLeaseMs * 1e6;
    this.insertLock.run(key, this.holder, this.pid, expiresNs, token);
    return { ok: true, header: { rsn: rsn!, dmaster: dmaster!, flags: flags! }, data: data!, token, expiresNs };
  }

  /** Step 2: store (or delete: empty data, appended to the feed) while our lock row holds token. */
  store(key: Uint8Array, token: number, data: Uint8Array, unlock: boolean): SharedWriteResult {
    return retryBusy(() => this.storeTx.immediate(key, token, data, unlock), busyRetryNsMaxClient);
  }

  private storeStep(key: Uint8Array, token: number, data: Uint8Array, unlock: boolean): SharedWriteResult {
    const now = this.env.nowNs();
    if (this.setDataIfHeld.run(data.length, data, data.length, key, this.incarnation, now, key, token).changes === 0) return this.storeRefusal(key, token, now);
    if (data.length === 0) this.appendDeletedOf.run(key);
    if (unlock && this.release.run(key, token).changes === 0) this.releaseMarked.run(key, token);
    return { ok: true };
  }

  /** Why the store's guarded UPDATE wrote nothing, checked in the README's order. */
  private storeRefusal(key: Uint8Array, token: number, now: number): SharedWriteResult {
    const v = this.fenceView.get(key, key)!;
    if (v.frozen !== 0) return { ok: false, fallback: 'frozen' };
    if (!this.fenceOk(v, now)) return { ok: false, fallback: 'fence' };
    if (v.lock_holder === null || v.lock_holder === '' || v.lock_token !== token || v.rsn === null) return { ok: false, lockLost: true };
    // Every check passes on the same snapshot, yet the UPDATE matched no row: the two disagree.
    throw new Error('shared-access store: the guarded update and its checks disagree');
  }

  /** Step 3: unlock. A row marked by a dbd waiter stays as the mark. */
  unlock(key: Uint8Array, token: number): SharedWriteResult {
    return retryBusy(() => this.unlockTx.immediate(key, token), busyRetryNsMaxClient);
  }

  private unlockStep(key: Uint8Array, token: number): SharedWriteResult {
    if (this.release.run(key, token).changes > 0) return { ok: true };
    if (this.releaseMarked.run(key, token).changes > 0) return { ok: true };
    return { ok: false, lockLost: true };
  }

  /**
   * Lock, read, fn, store and unlock as one step (one transaction, no lock row written): the
   * checks of the lock step, then fn's data written as a store would write it (a delete when
   * empty, with its feed entry). Any check failing falls back before fn runs.
   */
  update(key: Uint8Array, fn: UpdateFn): SharedUpdateResult {
    return retryBusy(() => this.updateTx.immediate(key, fn), busyRetryNsMaxClient);
  }

  private updateStep(key: Uint8Array, fn: UpdateFn): SharedUpdateResult {
    const v = this.lockView.get(key, key)!;
    const refused = this.lockRefusal(v, this.env.nowNs());
    if (refused !== undefined) return { ok: false, fallback: refused };
    const [, , , , , wipeEpoch, rsn, dmaster, flags, current] = v;
    const header: RecordHeader = { rsn: rsn!, dmaster: dmaster!, flags: flags! };
    const out = fn(current!, header);
    const data = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    return { ok: true, header: this.write(key, data, current!, header, wipeEpoch), data };
  }

  /**
   * The write of a store under the lock (§4 Store, Delete); returns the header written: the rsn
   * raised by one when data goes into a tombstone (records.ts rsnOfStore).
   */
  private write(key: Uint8Array, data: Uint8Array, current: Uint8Array, header: RecordHeader, wipeEpoch: number): RecordHeader {
    const flags = data.length > 0 ? header.flags & ~RecordFlags.AUTOMATIC : header.flags;
    const rsn = data.length > 0 && current.length === 0 ? header.rsn + 1 : header.rsn;
    this.setData.run(data.length, data, flags, key);
    if (data.length === 0) this.appendDeleted.run(key, rsn, wipeEpoch);
    return { rsn, dmaster: header.dmaster, flags };
  }

  close(): void {
    if (this.owned && this.sql.open) this.sql.close();
  }
}
