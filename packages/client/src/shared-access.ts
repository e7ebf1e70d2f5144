// Shared local access, client side (DESIGN §2.2). With `sharedAccess: true` and dbd on this host,
// the client opens this node's SQLite file of a volatile db and locks, stores and unlocks records
// it is dmaster of without any message to dbd. Every other case falls back to dbd: the record is
// elsewhere, locked or marked, the db frozen, the fence (lease, incarnation) failed, the file busy
// or unreadable. A fallback after a shared lock keeps the token: dbd accepts any lock row holding it.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RecordHeader, SharedAccessDb } from '@ctdbng/store';

type Store = typeof import('@ctdbng/store');

/**
 * @ctdbng/store (better-sqlite3, node:crypto) is loaded by the first client that gets shared
 * access, not when this module is: a client without it, such as `ctdbng`, never loads it.
 */
let store: Store | undefined;

/** A StoreBusyError; only a client with shared access (so with the store loaded) sees one. */
function isStoreBusy(err: unknown): boolean {
  return store !== undefined && err instanceof store.StoreBusyError;
}

/** A shared update step: the data stored, or hand the whole update to dbd. */
export type SharedUpdate = { ok: true; data: Buffer } | { ok: false };

export type SharedLock =
  | { ok: true; header: RecordHeader; data: Buffer; token: number; leaseMs: number }
  | { ok: false };

/** 'fallback': send the same operation, with the same token, to dbd. */
export type SharedWrite = 'ok' | 'fallback' | 'lockLost';

/** The open db files of one client, one handle per db, opened on first use. */
export class SharedAccess {
  private readonly handles = new Map<number, SharedAccessDb | null>();

  private constructor(private readonly dbClass: Store['SharedAccessDb'], private readonly pnn: number, private readonly incarnation: number) {}

  /** Shared access applies only when asked for and dbd runs on this host (same files, same clock). */
  static async forConnection(wanted: boolean, dbdHost: string, pnn: number, incarnation: number): Promise<SharedAccess | undefined> {
    if (!wanted || dbdHost === '' || dbdHost !== hostname()) return undefined;
    store ??= await import('@ctdbng/store');
    return new SharedAccess(store.SharedAccessDb, pnn, incarnation);
  }

  /** The handle of a volatile db's file, or undefined when the file cannot be used. */
  handle(dbId: number, path: string): SharedAccessDb | undefined {
    const known = this.handles.get(dbId);
    if (known !== undefined) return known ?? undefined;
    const opened = this.open(path);
    this.handles.set(dbId, opened);
    return opened ?? undefined;
  }

  private open(path: string): SharedAccessDb | null {
    if (path === '' || !existsSync(path)) return null;
    try {
      return new this.dbClass(path, this.pnn, this.incarnation, process.pid);
    } catch {
      // A file we cannot open (permissions, not a db yet): every operation goes through dbd.
      return null;
    }
  }

  close(): void {
    for (const h of this.handles.values()) h?.close();
    this.handles.clear();
  }
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Step 1 (lock). Busy counts as a fallback: dbd waits for the file with its own retries. */
export function sharedLock(sa: SharedAccessDb, key: Buffer): SharedLock {
  try {
    const r = sa.lock(key);
    if (!r.ok) return { ok: false };
    const leaseMs = Math.max(0, (r.expiresNs - nowNs()) / 1e6);
    return { ok: true, header: r.header, data: r.data, token: r.token, leaseMs };
  } catch (err) {
    if (isStoreBusy(err)) return { ok: false };
    throw err;
  }
}

/**
 * Lock, fn, store and unlock as one transaction (README §4, Update). Busy counts as a fallback,
 * as for the lock step; a throw from fn rolls the transaction back and reaches the caller.
 */
export function sharedUpdate(sa: SharedAccessDb, key: Buffer, fn: (current: Buffer) => Buffer): SharedUpdate {
  try {
    const r = sa.update(key, fn);
    return r.ok ? { ok: true, data: r.data } : { ok: false };
  } catch (err) {
    if (isStoreBusy(err)) return { ok: false };
    throw err;
  }
}

/** Step 2 (store, or delete with empty data). */
export function sharedStore(sa: SharedAccessDb, key: Buffer, token: number, data: Buffer, unlock: boolean): SharedWrite {
  return sharedWrite(() => sa.store(key, token, data, unlock));
}

/** Step 3 (unlock). */
export function sharedUnlock(sa: SharedAccessDb, key: Buffer, token: number): SharedWrite {
  return sharedWrite(() => sa.unlock(key, token));
}

function sharedWrite(step: () => ReturnType<SharedAccessDb['store']>): SharedWrite {
  try {
    const r = step();
    if (r.ok) return 'ok';
    return 'lockLost' in r ? 'lockLost' : 'fallback';
  } catch (err) {
    if (isStoreBusy(err)) return 'fallback';
    throw err;
  }
}
