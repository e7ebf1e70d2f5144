// Taking record locks for dbd's waiters (DESIGN §2.1.7, §2.2): rows of the db's locks table,
// leases with tokens; an expired lease or a dead holder pid is broken before we wait on it.
import type { LockRequest, LockResult, LockRow, StoredRecord } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';

export const migrationHolder = 'dbd:migrate';

export function clientHolder(clientId: string): string {
  return `dbd:${clientId}`;
}

export type TakeResult =
  | { ok: true; token: number; record: StoredRecord | undefined; expiresNs: number }
  | { ok: false; row: LockRow };

/** True when a lock row's holder is gone: lease expired, or its pid is dead on this host. */
export function holderGone(ctx: Ctx, row: LockRow): boolean {
  if (row.holder === '') return false;
  if (row.expires_ns <= ctx.io.clock.nowNs()) return true;
  return row.pid > 0 && !ctx.io.isPidAlive(row.pid);
}

export function breakLock(ctx: Ctx, db: DbState, row: LockRow, why: string): void {
  if (db.file.tx(() => db.file.locks.breakLock(row.key, row.token))) {
    ctx.stats.inc('locks_broken');
    ctx.log.info({ db: db.info.name, holder: row.holder, pid: row.pid, why }, 'record lock broken');
  }
}

/**
 * One attempt of `lock`, and one more after breaking a lock whose holder is gone. An answer other
 * than ok or locked (lockIfDmaster's 'elsewhere') is returned as it is.
 */
function takeWith<Other extends { result: string }>(ctx: Ctx, db: DbState, holder: string, pid: number, lock: (req: LockRequest) => LockResult | Other): TakeResult | Other {
  for (let attempt = 0; ; attempt++) {
    const token = ctx.newLockToken();
    const expiresNs = ctx.io.clock.nowNs() + ctx.tunables.lockLeaseSeconds * 1e9;
    const res = lock({ holder, pid, expiresNs, token });
    if (res.result === 'ok') return { ok: true, token, record: (res as Extract<LockResult, { result: 'ok' }>).record, expiresNs };
    if (res.result !== 'locked') return res as Other;
    const row = (res as Extract<LockResult, { result: 'locked' }>).row;
    if (attempt > 0 || !holderGone(ctx, row)) return { ok: false, row };
    breakLock(ctx, db, row, row.expires_ns <= ctx.io.clock.nowNs() ? 'lease expired' : 'holder pid dead');
  }
}

/** Tries to take the lock; breaks a lock whose holder is gone and tries once more. */
export function takeLock(ctx: Ctx, db: DbState, key: Buffer, holder: string, pid: number): TakeResult {
  return takeWith<never>(ctx, db, holder, pid, (req) => db.file.lock(key, req));
}

/**
 * takeLock for a local waiter, the record read in the same transaction (one SQLite transaction
 * where reading first and locking after took two): `elsewhere` when this node is not its dmaster.
 */
export function takeLockIfHere(ctx: Ctx, db: DbState, key: Buffer, holder: string, pid: number): TakeResult | { elsewhere: true; record: StoredRecord | undefined } {
  const taken = takeWith(ctx, db, holder, pid, (req) => db.file.lockIfDmaster(key, ctx.pnn, req));
  return 'result' in taken ? { elsewhere: true, record: taken.record } : taken;
}

/** Breaks every lock whose holder is gone (periodic sweep); returns the dbs that changed. */
export function sweepLocks(ctx: Ctx): DbState[] {
  const changed: DbState[] = [];
  for (const db of ctx.dbs.all()) {
    let any = false;
    for (const row of db.file.locks.all()) {
      if (holderGone(ctx, row)) {
        breakLock(ctx, db, row, row.expires_ns <= ctx.io.clock.nowNs() ? 'lease expired' : 'holder pid dead');
        any = true;
      }
    }
    if (any) changed.push(db);
  }
  return changed;
}
