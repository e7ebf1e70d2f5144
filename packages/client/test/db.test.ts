// Records through dbd: fetch_lock, store, unlock, lease renewal, fetch, traverse, key limits.
import { afterEach, describe, expect, test } from 'vitest';
import { keyBytesMax, recordBytesMax, type Envelope } from '@ctdbng/protocol';
import { connect, KeyTooLargeError, LockLostError, RecordTooLargeError, TimeoutError, UnknownDbError, type Client, type Db } from '../src/index.js';
import { FakeDbd } from './fake-dbd.js';
import type { RequestBody } from '../src/connection.js';

let fake: FakeDbd | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

const dbInfo = { dbId: 11, name: 'test.db', persistent: false, path: '/nonexistent/test.db.0.sqlite' };

/** A fake dbd serving one db: locks with token 42, a lease of leaseMs, Ok for the rest. */
function recordHandler(leaseMs: number) {
  return (env: Envelope): RequestBody | undefined => {
    switch (env.body) {
      case 'attach': return { attachReply: { db: dbInfo } };
      case 'getDbMap': return { dbMap: { dbs: [dbInfo] } };
      case 'fetchLock': return { fetchLockReply: { header: { rsn: 3, dmaster: 0, flags: 1 }, data: Buffer.from('old'), token: 42, leaseMs } };
      case 'fetch': return { fetchReply: { found: true, header: { rsn: 3, dmaster: 1 }, data: Buffer.from('v') } };
      default: return { ok: {} };
    }
  };
}

/** Waits (at most 2 s) until the fake dbd has received at least n requests of a kind. */
async function requestsArrive(fake: FakeDbd, kind: string, n: number): Promise<void> {
  await expect.poll(() => fake.requests(kind).length, { timeout: 2_000 }).toBeGreaterThanOrEqual(n);
}

async function setup(leaseMs = 30_000): Promise<{ fake: FakeDbd; db: Db }> {
  fake = await FakeDbd.start();
  fake.handler = recordHandler(leaseMs);
  client = await connect({ socket: fake.socket, timeoutMs: 2_000 });
  return { fake, db: await client.attach('test.db') };
}

describe('locks through dbd', () => {
  test('fetchLock returns the record with its header and stores carry the token', async () => {
    const { fake, db } = await setup();
    const rec = await db.fetchLock('k');
    expect(rec.via).toBe('dbd');
    expect(rec.header).toEqual({ rsn: 3, dmaster: 0, flags: 1 });
    expect(rec.data.toString()).toBe('old');
    await rec.store('new');
    await rec.store('newer', { unlock: true });
    const stores = fake.requests('store').map((e) => e.store);
    expect(stores.map((s) => [s?.token, s?.unlock, Buffer.from(s?.data ?? []).toString()])).toEqual([[42, false, 'new'], [42, true, 'newer']]);
  });

  test('a store after unlock fails with LockLostError without a request and unlock stays a no-op', async () => {
    const { fake, db } = await setup();
    const rec = await db.fetchLock('k');
    await rec.unlock();
    await expect(rec.store('x')).rejects.toBeInstanceOf(LockLostError);
    await rec.unlock();
    expect(fake.requests('unlock')).toHaveLength(1);
    expect(fake.requests('store')).toHaveLength(0);
  });

  test('withLock releases the lock when fn throws', async () => {
    const { fake, db } = await setup();
    await expect(db.withLock('k', () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(fake.requests('unlock').map((e) => e.unlock?.token)).toEqual([42]);
  });

  test('withLock returns what fn returns and unlocks once', async () => {
    const { fake, db } = await setup();
    const got = await db.withLock('k', async (rec) => { await rec.delete(); return rec.data.toString(); });
    expect(got).toBe('old');
    expect(fake.requests('store')[0]?.store?.delete).toBe(true);
    expect(fake.requests('unlock')).toHaveLength(1);
  });

  test('await using unlocks the record at the end of the block', async () => {
    const { fake, db } = await setup();
    {
      await using rec = await db.fetchLock('k');
      expect(rec.via).toBe('dbd');
    }
    expect(fake.requests('unlock')).toHaveLength(1);
  });

  test('a held lock is renewed with its token while it is held', async () => {
    const { fake, db } = await setup(60);
    const rec = await db.fetchLock('k');
    // lease 60 ms: a renewal every 20 ms (the timing itself: held-locks.test.ts).
    await requestsArrive(fake, 'renewLock', 2);
    expect(fake.requests('renewLock')[0]?.renewLock).toMatchObject({ dbId: 11, token: 42 });
    await rec.unlock();
    expect(fake.requests('unlock')).toHaveLength(1);
  });

  test('a lock granted after its request timed out is given back', async () => {
    const { fake, db } = await setup();
    let held: Envelope | undefined;
    fake.handler = (env) => {
      if (env.body === 'fetchLock') { held = env; return undefined; }
      return { ok: {} };
    };
    await expect(db.fetchLock('k', { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    fake.reply(held!, { fetchLockReply: { token: 77, leaseMs: 30_000 } });
    await expect.poll(() => fake.requests('unlock').map((e) => e.unlock?.token)).toEqual([77]);
  });

  test('a LockLost reply to a store ends the lock: the next store fails locally', async () => {
    const { fake, db } = await setup();
    const rec = await db.fetchLock('k');
    fake.handler = () => ({ error: { code: 8, message: 'lease broken' } });
    await expect(rec.store('x')).rejects.toBeInstanceOf(LockLostError);
    await expect(rec.store('y')).rejects.toBeInstanceOf(LockLostError);
    expect(fake.requests('store')).toHaveLength(1);
  });
});

describe('keys and reads', () => {
  test('keys of 1 and keyBytesMax bytes are sent; empty and keyBytesMax + 1 fail with KeyTooLargeError', async () => {
    const { fake, db } = await setup();
    await db.fetch('k');
    await db.fetch(Buffer.alloc(keyBytesMax, 1));
    await expect(db.fetch('')).rejects.toBeInstanceOf(KeyTooLargeError);
    await expect(db.fetch(Buffer.alloc(keyBytesMax + 1))).rejects.toBeInstanceOf(KeyTooLargeError);
    expect(fake.requests('fetch')).toHaveLength(2);
  });

  test('data of recordBytesMax + 1 bytes fails with RecordTooLargeError before it is sent', async () => {
    const { fake, db } = await setup();
    const rec = await db.fetchLock('k');
    await expect(rec.store(Buffer.alloc(recordBytesMax + 1))).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(fake.requests('store')).toHaveLength(0);
  });

  test('fetch returns header and data; a missing record is found: false', async () => {
    const { fake, db } = await setup();
    expect(await db.fetch('k')).toEqual({ found: true, header: { rsn: 3, dmaster: 1, flags: 0 }, data: Buffer.from('v') });
    fake.handler = () => ({ fetchReply: { found: false } });
    expect(await db.fetch('k')).toEqual({ found: false, data: Buffer.alloc(0) });
  });

  test('db(name) finds an attached db and fails with UnknownDbError for another name', async () => {
    const { fake } = await setup();
    expect((await client!.db('test.db')).id).toBe(11);
    await expect(client!.db('other.db')).rejects.toBeInstanceOf(UnknownDbError);
    expect(fake.requests('getDbMap')).toHaveLength(2);
  });
});

describe('traverse', () => {
  function batch(traverseId: number, keys: string[], done: boolean): RequestBody {
    return { traverseBatch: { traverseId, done, records: keys.map((k) => ({ key: Buffer.from(k), header: { rsn: 1, dmaster: 0 }, data: Buffer.from(`v${k}`) })) } };
  }

  test('traverse asks for the next batch only when the consumer pulls, and ends on done', async () => {
    const { fake, db } = await setup();
    fake.handler = (env) => env.body === 'traverseStart' ? batch(5, ['a', 'b'], false) : batch(5, ['c'], true);
    const it = db.traverse()[Symbol.asyncIterator]();
    expect(fake.requests()).toHaveLength(1); // attach only: nothing before the first pull
    expect((await it.next()).value?.key.toString()).toBe('a');
    expect((await it.next()).value?.data.toString()).toBe('vb');
    expect(fake.requests('traverseNext')).toHaveLength(0);
    const c = await it.next();
    expect(c.value?.header).toEqual({ rsn: 1, dmaster: 0, flags: 0 });
    expect(fake.requests('traverseNext').map((e) => e.traverseNext?.traverseId)).toEqual([5]);
    expect((await it.next()).done).toBe(true);
    expect(fake.requests('traverseCancel')).toHaveLength(0);
  });

  test('leaving a traverse early sends TraverseCancel', async () => {
    const { fake, db } = await setup();
    fake.handler = (env) => env.body === 'traverseStart' ? batch(9, ['a', 'b'], false) : { ok: {} };
    for await (const r of db.traverse({ local: true })) {
      expect(r.key.toString()).toBe('a');
      break;
    }
    expect(fake.requests('traverseStart')[0]?.traverseStart?.local).toBe(true);
    expect(fake.requests('traverseCancel').map((e) => e.traverseCancel?.traverseId)).toEqual([9]);
    expect(fake.requests('traverseNext')).toHaveLength(0);
  });

  test('a failed TraverseCancel does not hide the end of the loop', async () => {
    const { fake, db } = await setup();
    fake.handler = (env) => env.body === 'traverseStart' ? batch(9, ['a'], false) : { error: { code: 13, message: 'gone' } };
    const keys: string[] = [];
    for await (const r of db.traverse()) { keys.push(r.key.toString()); break; }
    expect(keys).toEqual(['a']);
  });
});
