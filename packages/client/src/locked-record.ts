// A held record lock (DESIGN §2.1.6–7, §2.2). Every store and unlock carries the lock token; the
// lock is a lease, renewed every lease_ms / 3 until it is released (held-locks.ts). A lock taken
// through shared access writes through the db file and falls back to dbd with the same token.
import type { SharedAccessDb } from '@ctdbng/store';
import type { LockContext, RecordHeader } from './types.js';
import type { HeldLock } from './held-locks.js';
import { LockLostError } from './errors.js';
import { toData, type Bytes } from './bytes.js';
import { sharedStore, sharedUnlock } from './shared-access.js';

export interface LockGrant {
  dbId: number;
  key: Buffer;
  header: RecordHeader;
  data: Buffer;
  token: number;
  leaseMs: number;
  /** Set for a lock taken through shared access. */
  shared: SharedAccessDb | undefined;
}

const empty = Buffer.alloc(0);
/** What a shared-access step that needs no message resolves with (one promise for all of them). */
const done: Promise<void> = Promise.resolve();

export class LockedRecord implements HeldLock {
  readonly key: Buffer;
  readonly header: RecordHeader;
  readonly data: Buffer;
  readonly via: 'shared' | 'dbd';
  /** @internal HeldLocks' bookkeeping. */
  renewDueMs: number;
  /** @internal */
  readonly renewEveryMs: number;
  private readonly dbId: number;
  private readonly token: number;
  private readonly shared: SharedAccessDb | undefined;
  private held = true;
  private renewing = false;

  constructor(private readonly ctx: LockContext, grant: LockGrant) {
    this.key = grant.key;
    this.header = grant.header;
    this.data = grant.data;
    this.dbId = grant.dbId;
    this.token = grant.token;
    this.shared = grant.shared;
    this.via = grant.shared === undefined ? 'dbd' : 'shared';
    // Renewed every lease_ms / 3 (one timer per client, held-locks.ts).
    this.renewEveryMs = grant.leaseMs > 0 ? Math.max(1, Math.floor(grant.leaseMs / 3)) : 0;
    this.renewDueMs = this.renewEveryMs > 0 ? performance.now() + this.renewEveryMs : Infinity;
    ctx.locks.add(this);
  }

  /** Writes data under the lock; `unlock: true` releases it in the same step. */
  store(data: Bytes, o: { unlock?: boolean } = {}): Promise<void> {
    try {
      return this.write(toData(data), false, o.unlock ?? false);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Writes a tombstone (read as not found; vacuuming purges it later). */
  delete(o: { unlock?: boolean } = {}): Promise<void> {
    try {
      return this.write(empty, true, o.unlock ?? false);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Releases the lock. Idempotent; a lock already lost counts as released. */
  async unlock(): Promise<void> {
    if (!this.held) return;
    // Stop renewing first: if the unlock below fails, the lease still ends the lock.
    this.release();
    if (this.shared !== undefined) {
      const r = sharedUnlock(this.shared, this.key, this.token);
      if (r !== 'fallback') return;
    }
    try {
      await this.ctx.conn.request({ unlock: { dbId: this.dbId, key: this.key, token: this.token } }, 'ok');
    } catch (err) {
      if (!(err instanceof LockLostError)) throw err;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.unlock();
  }

  /** Shared access answers at once (no promise chain of its own); dbd's path is a request. */
  private write(data: Buffer, del: boolean, unlock: boolean): Promise<void> {
    if (!this.held) throw new LockLostError('record lock already released');
    if (this.shared !== undefined) {
      const r = sharedStore(this.shared, this.key, this.token, data, unlock);
      if (r === 'ok') {
        if (unlock) this.release();
        return done;
      }
      if (r === 'lockLost') {
        this.release();
        throw new LockLostError('record lock lost (lease broken or recovery)');
      }
    }
    return this.writeViaDbd(data, del, unlock);
  }

  private async writeViaDbd(data: Buffer, del: boolean, unlock: boolean): Promise<void> {
    const store = { dbId: this.dbId, key: this.key, token: this.token, data, delete: del, unlock };
    try {
      await this.ctx.conn.request({ store }, 'ok');
    } catch (err) {
      if (err instanceof LockLostError) this.release();
      throw err;
    }
    if (unlock) this.release();
  }

  /** @internal HeldLocks' timer: one RenewLockRequest, unless one is still on its way. */
  renew(): void {
    if (this.renewing || !this.held) return;
    this.renewing = true;
    this.ctx.conn.request({ renewLock: { dbId: this.dbId, key: this.key, token: this.token } }, 'ok', { timeoutMs: this.renewEveryMs }).then(
      () => undefined,
      (err: unknown) => {
        // Lost: stop renewing; the next store says LockLostError. Anything else (timeout, a
        // recovery): the next due time tries again while the lease still runs.
        if (err instanceof LockLostError) this.ctx.locks.delete(this);
      },
    ).finally(() => {
      this.renewing = false;
    });
  }

  private release(): void {
    this.held = false;
    this.ctx.locks.delete(this);
  }

  /** @internal Client closing: no more renewals; a shared lock is released in the file (no dbd needed). */
  abandon(): void {
    if (!this.held) return;
    this.held = false;
    if (this.shared !== undefined) {
      // Best effort: if this fails the lease ends the lock; the client is going away either way.
      try { sharedUnlock(this.shared, this.key, this.token); } catch { /* see above */ }
    }
  }
}
