// Shared local access (DESIGN §2.2): a client on the node's host locks and updates records in the
// node's db file directly, in short BEGIN IMMEDIATE transactions, and falls back to dbd whenever
// the record is not here, locked, marked, the db frozen, or the fence (lease, incarnation) fails.
// The steps below are the protocol; packages/store/README.md writes them out for other languages.
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { applyPragmas } from './schema.js';
import { busyRetryNsMaxClient, retryBusy } from './busy.js';
import { RecordFlags } from './flags.js';
import type { RecordHeader } from './records.js';

/** Why a shared-access step handed the work to dbd. */
export type Fallback = 'frozen' | 'fence' | 'not_dmaster' | 'absent' | 'locked';

export type SharedLockResult =
  | { ok: true; header: RecordHeader; data: Buffer; token: number; expiresNs: number }
  | { ok: false; fallback: Fallback };

export type SharedWriteResult = { ok: true } | { ok: false; fallback: 'frozen' | 'fence' } | { ok: false; lockLost: true };

interface LockView {
  frozen: number;
  lease_until_ns: number;
  incarnation: number;
  pnn: number;
  lock_lease_ms: number;
  wipe_epoch: number;
  rsn: number | null;
  dmaster: number | null;
  flags: number | null;
  data: Buffer | null;
  lock_key: Buffer | null;
}

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

export class SharedAccessDb {
  private readonly sql: Database;
  private readonly lockView: Statement<[Uint8Array, Uint8Array], LockView>;
  private readonly fenceView: Statement<[Uint8Array, Uint8Array], FenceView>;
  private readonly insertLock: Statement<[Uint8Array, string, number, number, number]>;
  private readonly setData: Statement<[Uint8Array, number, Uint8Array]>;
  private readonly appendDeleted: Statement<[Uint8Array, number, number]>;
  private readonly release: Statement<[Uint8Array, number]>;
  private readonly releaseMarked: Statement<[Uint8Array, number]>;
  private readonly holder: string;
  /** Opened here (closed by close()), or a connection the caller owns. */
  private readonly owned: boolean;

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
    this.lockView = this.sql.prepare(
      'SELECT m.frozen, m.lease_until_ns, m.incarnation, m.pnn, m.lock_lease_ms, m.wipe_epoch, r.rsn, r.dmaster, r.flags, r.data, l.key AS lock_key ' +
        'FROM meta m LEFT JOIN records r ON r.key = ? LEFT JOIN locks l ON l.key = ? WHERE m.id = 0',
    );
    this.fenceView = this.sql.prepare(
      'SELECT m.frozen, m.lease_until_ns, m.incarnation, m.wipe_epoch, l.holder AS lock_holder, l.token AS lock_token, r.rsn, r.flags ' +
        'FROM meta m LEFT JOIN locks l ON l.key = ? LEFT JOIN records r ON r.key = ? WHERE m.id = 0',
    );
    this.insertLock = this.sql.prepare('INSERT INTO locks (key, holder, pid, expires_ns, token, pending_migration) VALUES (?, ?, ?, ?, ?, 0)');
    // Plain '?' only: better-sqlite3 takes '?NNN' for a named parameter and refuses positional values.
    this.setData = this.sql.prepare('UPDATE records SET data = ?, flags = ? WHERE key = ?');
    this.appendDeleted = this.sql.prepare('INSERT INTO deleted (key, rsn, epoch) VALUES (?, ?, ?)');
    this.release = this.sql.prepare('DELETE FROM locks WHERE key = ? AND token = ? AND pending_migration = 0');
    this.releaseMarked = this.sql.prepare("UPDATE locks SET holder = '', pid = 0, expires_ns = 0, token = 0 WHERE key = ? AND token = ? AND holder != ''");
  }

  private fenceOk(v: { lease_until_ns: number; incarnation: number }, now: number): boolean {
    return v.incarnation === this.incarnation && v.lease_until_ns > now;
  }

  /** Step 1: lock. Frozen, fence, not dmaster here, absent or any lock row → fall back to dbd. */
  lock(key: Uint8Array): SharedLockResult {
    const run = this.sql.transaction((): SharedLockResult => {
      const now = this.env.nowNs();
      const v = this.lockView.get(key, key)!;
      if (v.frozen !== 0) return { ok: false, fallback: 'frozen' };
      if (!this.fenceOk(v, now)) return { ok: false, fallback: 'fence' };
      if (v.rsn === null) return { ok: false, fallback: 'absent' };
      if (v.dmaster !== v.pnn) return { ok: false, fallback: 'not_dmaster' };
      if (v.lock_key !== null) return { ok: false, fallback: 'locked' };
      const token = this.env.newLockToken();
      const expiresNs = now + v.lock_lease_ms * 1e6;
      this.insertLock.run(key, this.holder, this.pid, expiresNs, token);
      return { ok: true, header: { rsn: v.rsn, dmaster: v.dmaster, flags: v.flags! }, data: v.data!, token, expiresNs };
    });
    return retryBusy(() => run.immediate(), busyRetryNsMaxClient);
  }

  /** Step 2: store (or delete: empty data, appended to the feed) while our lock row holds token. */
  store(key: Uint8Array, token: number, data: Uint8Array, unlock: boolean): SharedWriteResult {
    const run = this.sql.transaction((): SharedWriteResult => {
      const v = this.fenceView.get(key, key)!;
      if (v.frozen !== 0) return { ok: false, fallback: 'frozen' };
      if (!this.fenceOk(v, this.env.nowNs())) return { ok: false, fallback: 'fence' };
      if (v.lock_holder === null || v.lock_holder === '' || v.lock_token !== token || v.rsn === null) return { ok: false, lockLost: true };
      const flags = data.length > 0 ? v.flags! & ~RecordFlags.AUTOMATIC : v.flags!;
      this.setData.run(data, flags, key);
      if (data.length === 0) this.appendDeleted.run(key, v.rsn, v.wipe_epoch);
      if (unlock && this.release.run(key, token).changes === 0) this.releaseMarked.run(key, token);
      return { ok: true };
    });
    return retryBusy(() => run.immediate(), busyRetryNsMaxClient);
  }

  /** Step 3: unlock. A row marked by a dbd waiter stays as the mark. */
  unlock(key: Uint8Array, token: number): SharedWriteResult {
    const run = this.sql.transaction((): SharedWriteResult => {
      if (this.release.run(key, token).changes > 0) return { ok: true };
      if (this.releaseMarked.run(key, token).changes > 0) return { ok: true };
      return { ok: false, lockLost: true };
    });
    return retryBusy(() => run.immediate(), busyRetryNsMaxClient);
  }

  close(): void {
    if (this.owned && this.sql.open) this.sql.close();
  }
}
