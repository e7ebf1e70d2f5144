// One attached database (DESIGN §2.1, §2.3): record locks, reads and the traverse stream.
import type { Envelope, ctdbng } from '@ctdbng/protocol';
import type { SharedAccessDb } from '@ctdbng/store';
import type { CallOptions, ClientContext, DbInfo, RecordEntry, RecordHeader } from './types.js';
import { LockedRecord } from './locked-record.js';
import { fieldBuffer, toData, toKey, type Bytes } from './bytes.js';
import { sharedLock, sharedUpdate } from './shared-access.js';

export function toHeader(h: ctdbng.v1.RecordHeader.$Properties | null | undefined): RecordHeader {
  return { rsn: h?.rsn ?? 0, dmaster: h?.dmaster ?? 0, flags: h?.flags ?? 0 };
}

export class Db {
  readonly id: number;
  readonly name: string;
  readonly persistent: boolean;
  /** This node's SQLite file of the db (used by shared access). */
  readonly path: string;

  constructor(private readonly ctx: ClientContext, info: DbInfo) {
    this.id = info.id;
    this.name = info.name;
    this.persistent = info.persistent;
    this.path = info.path;
  }

  /**
   * Locks a record and returns it with its data. Through shared access when the record is here,
   * unlocked and the node fenced (no message at all); otherwise dbd waits, migrates and locks.
   */
  fetchLock(key: Bytes, o: CallOptions = {}): Promise<LockedRecord> {
    try {
      const k = toKey(key);
      const sa = this.sharedHandle();
      if (sa !== undefined) {
        const r = sharedLock(sa, k);
        if (r.ok) return Promise.resolve(new LockedRecord(this.ctx, { dbId: this.id, key: k, ...r, shared: sa }));
      }
      return this.fetchLockViaDbd(k, o);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Read, compute and store in one step: `fn` gets the record's data (empty when it has none or
   * is a tombstone) and returns the new data; empty data deletes the record (a tombstone, entered
   * in the vacuum feed). Resolves with what was stored. With shared access and the record here
   * (this node dmaster, no lock row or mark, not frozen, fenced) it is one SQLite transaction in
   * which no lock row is ever written (packages/store/README.md §4, Update); otherwise
   * fetchLock through dbd, `fn`, then store with unlock. `fn` is synchronous and quick: on the
   * shared path it runs inside the write transaction, holding every writer of the db file off.
   * A throw from `fn` stores nothing, releases the lock and rejects with that error.
   */
  update(key: Bytes, fn: (current: Buffer) => Bytes, o: CallOptions = {}): Promise<Buffer> {
    try {
      const k = toKey(key);
      const sa = this.sharedHandle();
      if (sa !== undefined) {
        const r = sharedUpdate(sa, k, (current) => toData(fn(current)));
        if (r.ok) return Promise.resolve(r.data);
      }
      return this.updateViaDbd(k, fn, o);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async updateViaDbd(key: Buffer, fn: (current: Buffer) => Bytes, o: CallOptions): Promise<Buffer> {
    const rec = await this.fetchLockViaDbd(key, o);
    try {
      const next = toData(fn(rec.data));
      if (next.length === 0) await rec.delete({ unlock: true });
      else await rec.store(next, { unlock: true });
      return next;
    } catch (err) {
      // The first error is the one to report; a lock already released or lost makes this a no-op,
      // and if the unlock fails too the lease ends the lock.
      await rec.unlock().catch(() => undefined);
      throw err;
    }
  }

  /** fetchLock through dbd (also where shared access fell back). */
  private async fetchLockViaDbd(k: Buffer, o: CallOptions): Promise<LockedRecord> {
    const reply = await this.ctx.conn.request({ fetchLock: { dbId: this.id, key: k } }, 'fetchLockReply', {
      ...o,
      onLateReply: (env) => this.unlockLateGrant(k, env),
    });
    return new LockedRecord(this.ctx, {
      dbId: this.id, key: k, header: toHeader(reply.header), data: fieldBuffer(reply.data),
      token: reply.token, leaseMs: reply.leaseMs, shared: undefined,
    });
  }

  /** Reads a record without locking it; a tombstone is `found: false`. */
  async fetch(key: Bytes, o: CallOptions = {}): Promise<{ found: boolean; header?: RecordHeader; data: Buffer }> {
    const reply = await this.ctx.conn.request({ fetch: { dbId: this.id, key: toKey(key) } }, 'fetchReply', o);
    if (!reply.found) return { found: false, data: Buffer.alloc(0) };
    return { found: true, header: toHeader(reply.header), data: fieldBuffer(reply.data) };
  }

  /** Runs fn under the record lock and always unlocks, also when fn throws. */
  async withLock<T>(key: Bytes, fn: (rec: LockedRecord) => Promise<T> | T, o: CallOptions = {}): Promise<T> {
    const rec = await this.fetchLock(key, o);
    let result: T;
    try {
      result = await fn(rec);
    } catch (err) {
      // fn's error is the one to report; if this unlock fails too, the lease ends the lock.
      await rec.unlock().catch(() => undefined);
      throw err;
    }
    await rec.unlock();
    return result;
  }

  /**
   * Streams the records: cluster-wide live records, or with `local` this node's whole store
   * (stale copies and tombstones). The next batch is asked for only when the consumer has
   * taken the previous one; leaving the loop early cancels the traverse on dbd.
   */
  async *traverse(o: { local?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<RecordEntry, void, undefined> {
    const call = { signal: o.signal };
    let batch = await this.ctx.conn.request({ traverseStart: { dbId: this.id, local: o.local ?? false } }, 'traverseBatch', call);
    const traverseId = batch.traverseId;
    let done = batch.done;
    try {
      for (;;) {
        for (const r of batch.records) yield toEntry(r);
        if (done) return;
        batch = await this.ctx.conn.request({ traverseNext: { traverseId } }, 'traverseBatch', call);
        done = batch.done;
      }
    } finally {
      if (!done) await this.cancelTraverse(traverseId);
    }
  }

  private async cancelTraverse(traverseId: number): Promise<void> {
    try {
      await this.ctx.conn.request({ traverseCancel: { traverseId } }, 'ok');
    } catch {
      // Nobody to tell: the consumer already left. NOT_FOUND (it just finished) or a closed
      // client mean nothing is left to cancel; any other failure leaves one idle traverse, dbd's.
    }
  }

  private sharedHandle(): SharedAccessDb | undefined {
    if (this.persistent || this.ctx.shared === undefined) return undefined;
    return this.ctx.shared.handle(this.id, this.path);
  }

  /** A lock granted after its request timed out or was aborted: nobody holds it, so give it back. */
  private unlockLateGrant(key: Buffer, env: Envelope): void {
    const token = env.fetchLockReply?.token;
    if (token === undefined || token === null) return;
    this.ctx.conn.request({ unlock: { dbId: this.id, key, token } }, 'ok').catch(() => {
      // If this fails too the lock ends by its lease; the caller has already been told of the failure.
    });
  }
}

function toEntry(r: ctdbng.v1.Record.$Properties): RecordEntry {
  return { key: fieldBuffer(r.key), header: toHeader(r.header), data: fieldBuffer(r.data) };
}
