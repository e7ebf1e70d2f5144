// A held record lock (DESIGN §2.1.6–7, §2.2). Every store and unlock carries the lock token; the
// lock is a lease that this object renews every lease_ms / 3 until it is released. A lock taken
// through shared access writes through the db file and falls back to dbd with the same token.
import type { SharedAccessDb } from '@ctdbng/store';
import type { LockContext, RecordHeader } from './types.js';
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

export class LockedRecord {
  readonly key: Buffer;
  readonly header: RecordHeader;
  readonly data: Buffer;
  readonly via: 'shared' | 'dbd';
  private readonly dbId: number;
  private readonly token: number;
  private readonly shared: SharedAccessDb | undefined;
  private held = true;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private readonly onClientClose = (): void => this.abandon();

  constructor(private readonly ctx: LockContext, grant: LockGrant) {
    this.key = grant.key;
    this.header = grant.header;
    this.data = grant.data;
    this.dbId = grant.dbId;
    this.token = grant.token;
    this.shared = grant.shared;
    this.via = grant.shared === undefined ? 'dbd' : 'shared';
    ctx.closers.add(this.onClientClose);
    this.startRenewal(grant.leaseMs);
  }

  /** Writes data under the lock; `unlock: true` releases it in the same step. */
  async store(data: Bytes, o: { unlock?: boolean } = {}): Promise<void> {
    await this.write(toData(data), false, o.unlock ?? false);
  }

  /** Writes a tombstone (read as not found; vacuuming purges it later). */
  async delete(o: { unlock?: boolean } = {}): Promise<void> {
    await this.write(empty, true, o.unlock ?? false);
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

  private async write(data: Buffer, del: boolean, unlock: boolean): Promise<void> {
    if (!this.held) throw new LockLostError('record lock already released');
    if (this.shared !== undefined) {
      const r = sharedStore(this.shared, this.key, this.token, data, unlock);
      if (r === 'ok') return this.afterWrite(unlock);
      if (r === 'lockLost') {
        this.release();
        throw new LockLostError('record lock lost (lease broken or recovery)');
      }
    }
    const store = { dbId: this.dbId, key: this.key, token: this.token, data, delete: del, unlock };
    try {
      await this.ctx.conn.request({ store }, 'ok');
    } catch (err) {
      if (err instanceof LockLostError) this.release();
      throw err;
    }
    this.afterWrite(unlock);
  }

  private afterWrite(unlock: boolean): void {
    if (unlock) this.release();
  }

  private startRenewal(leaseMs: number): void {
    if (!(leaseMs > 0)) return;
    const everyMs = Math.max(1, Math.floor(leaseMs / 3));
    this.renewTimer = setInterval(() => void this.renew(everyMs), everyMs);
    this.renewTimer.unref();
  }

  private async renew(timeoutMs: number): Promise<void> {
    if (this.renewing || !this.held) return;
    this.renewing = true;
    try {
      await this.ctx.conn.request({ renewLock: { dbId: this.dbId, key: this.key, token: this.token } }, 'ok', { timeoutMs });
    } catch (err) {
      // Lost: stop renewing; the next store says LockLostError. Anything else (timeout, a
      // recovery): the next tick tries again while the lease still runs.
      if (err instanceof LockLostError) this.stopRenewal();
    } finally {
      this.renewing = false;
    }
  }

  private stopRenewal(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private release(): void {
    this.held = false;
    this.stopRenewal();
    this.ctx.closers.delete(this.onClientClose);
  }

  /** Client closing: stop renewing; a shared lock is released in the file (no dbd needed). */
  private abandon(): void {
    if (!this.held) return;
    this.release();
    if (this.shared !== undefined) {
      // Best effort: if this fails the lease ends the lock; the client is going away either way.
      try { sharedUnlock(this.shared, this.key, this.token); } catch { /* see above */ }
    }
  }
}
