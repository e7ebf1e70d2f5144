// db.update(key, fn) (DESIGN §2.2, packages/store/README.md §4 Update): with shared access and the
// record here it is one transaction in the db file and sends nothing; otherwise fetch_lock, fn
// and store with unlock go through dbd.
import { afterEach, expect, test } from 'vitest';
import { join } from 'node:path';
import { DbFile } from '@ctdbng/store';
import { ErrorCode, recordBytesMax, type Envelope } from '@ctdbng/protocol';
import { connect, FrozenError, KeyTooLargeError, LockLostError, RecordTooLargeError, type Client, type Db } from '../src/index.js';
import type { RequestBody } from '../src/connection.js';
import { FakeDbd } from './fake-dbd.js';

const incarnation = 7;
let fake: FakeDbd | undefined;
let client: Client | undefined;
let file: DbFile | undefined;

afterEach(async () => {
  await client?.close();
  file?.close();
  await fake?.close();
  client = undefined;
  file = undefined;
  fake = undefined;
});

const k = Buffer.from('counter');

/** dbd's side: grants locks with token 42 on the record "10" (rsn 9) and answers Ok to the rest. */
function dbdHandler(path: string) {
  const info = { dbId: 11, name: 'up.db', persistent: false, path };
  return (env: Envelope): RequestBody => {
    switch (env.body) {
      case 'attach': return { attachReply: { db: info } };
      case 'fetchLock': return { fetchLockReply: { header: { rsn: 9, dmaster: 0 }, data: Buffer.from('10'), token: 42, leaseMs: 30_000 } };
      default: return { ok: {} };
    }
  };
}

/** A db file of node 0 holding "counter" = "1" (dmaster 0) under a live lease; a client with shared access unless said. */
async function setup(o: { sharedAccess?: boolean } = {}): Promise<{ fake: FakeDbd; file: DbFile; db: Db }> {
  fake = await FakeDbd.start({ pnn: 0, incarnation });
  const path = join(fake.dir, 'db', 'volatile', 'up.db.0.sqlite');
  file = DbFile.open(path, { dbId: 11, name: 'up.db', persistent: false, pnn: 0 });
  file.meta.set({ incarnation, lease_until_ns: Number(process.hrtime.bigint()) + 5_000e6 });
  file.records.put(k, { rsn: 4, dmaster: 0, flags: 0 }, Buffer.from('1'));
  fake.handler = dbdHandler(path);
  client = await connect({ socket: fake.socket, sharedAccess: o.sharedAccess ?? true });
  return { fake, file, db: await client.attach('up.db') };
}

const increment = (current: Buffer): string => String(Number(current.toString() || '0') + 1);

test('update of a local record is one transaction in the file: nothing sent to dbd, no lock row, the new data returned', async () => {
  const { fake, file, db } = await setup();
  const before = fake.received.length;
  const stored = await db.update(k, (current) => {
    expect(file.locks.get(k)).toBeUndefined();
    return increment(current);
  });
  expect(stored.toString()).toBe('2');
  expect(file.records.get(k)).toMatchObject({ rsn: 4, dmaster: 0, data: Buffer.from('2') });
  expect(file.locks.get(k)).toBeUndefined();
  expect(fake.received.length).toBe(before);
});

test('update returning empty data deletes: a tombstone and a vacuum feed entry, through the file', async () => {
  const { fake, file, db } = await setup();
  const stored = await db.update(k, () => '');
  expect(stored.length).toBe(0);
  expect(file.records.get(k)?.data.length).toBe(0);
  expect(file.feed.count()).toBe(1);
  expect(fake.requests('store')).toHaveLength(0);
});

test.each([
  ['not dmaster', (f: DbFile) => f.records.put(k, { rsn: 4, dmaster: 1, flags: 0 }, Buffer.from('stale'))],
  ['frozen', (f: DbFile) => f.meta.set({ frozen: 1 })],
  ['fenced (lease lapsed)', (f: DbFile) => f.meta.set({ lease_until_ns: 1 })],
  ['locked', (f: DbFile) => void f.lock(k, { holder: 'dbd', pid: 1, expiresNs: Number(process.hrtime.bigint()) + 10e9, token: 5 })],
])('update falls back to dbd when %s: fetch_lock, fn on dbd\'s data, store with unlock and the same token', async (_name, arrange) => {
  const { fake, file, db } = await setup();
  arrange(file);
  const stored = await db.update(k, increment);
  expect(stored.toString()).toBe('11');
  expect(fake.requests('fetchLock')[0]?.fetchLock).toMatchObject({ dbId: 11 });
  expect(Buffer.from(fake.requests('fetchLock')[0]!.fetchLock!.key!).toString()).toBe('counter');
  expect(fake.requests('store')).toHaveLength(1);
  const store = fake.requests('store')[0]!.store!;
  expect(store).toMatchObject({ dbId: 11, token: 42, unlock: true, delete: false });
  expect(Buffer.from(store.data!).toString()).toBe('11');
});

test('update without shared access goes through dbd; empty data is a delete with unlock', async () => {
  const { fake, db } = await setup({ sharedAccess: false });
  expect((await db.update(k, () => Buffer.alloc(0))).length).toBe(0);
  expect(fake.requests('store')[0]?.store).toMatchObject({ token: 42, unlock: true, delete: true });
});

test('a throw from fn stores nothing and rejects with it: in the file, and through dbd with the lock given back', async () => {
  const { fake, file, db } = await setup();
  const boom = new Error('fn refused');
  await expect(db.update(k, () => { throw boom; })).rejects.toBe(boom);
  expect(file.records.get(k)?.data.toString()).toBe('1');
  expect(file.locks.get(k)).toBeUndefined();
  file.meta.set({ frozen: 1 });
  await expect(db.update(k, () => { throw boom; })).rejects.toBe(boom);
  expect(fake.requests('store')).toHaveLength(0);
  expect(fake.requests('unlock')[0]?.unlock).toMatchObject({ dbId: 11, token: 42 });
});

test('data from fn past recordBytesMax fails with RecordTooLargeError and writes nothing; an empty key with KeyTooLargeError', async () => {
  const { fake, file, db } = await setup();
  const huge = (): Buffer => Buffer.alloc(recordBytesMax + 1);
  await expect(db.update(k, huge)).rejects.toBeInstanceOf(RecordTooLargeError);
  expect(file.records.get(k)?.data.toString()).toBe('1');
  file.meta.set({ frozen: 1 });
  await expect(db.update(k, huge)).rejects.toBeInstanceOf(RecordTooLargeError);
  expect(fake.requests('store')).toHaveLength(0);
  await expect(db.update('', increment)).rejects.toBeInstanceOf(KeyTooLargeError);
});

test("dbd's errors reach the caller typed: ERR_FROZEN on the lock, ERR_LOCK_LOST on the store", async () => {
  const { fake, file, db } = await setup();
  file.meta.set({ frozen: 1 });
  const base = fake.handler;
  fake.handler = (env, f) => (env.body === 'fetchLock' ? { error: { code: ErrorCode.ERR_FROZEN, message: 'frozen' } } : base(env, f));
  await expect(db.update(k, increment)).rejects.toBeInstanceOf(FrozenError);
  fake.handler = (env, f) => (env.body === 'store' ? { error: { code: ErrorCode.ERR_LOCK_LOST, message: 'lost' } } : base(env, f));
  await expect(db.update(k, increment)).rejects.toBeInstanceOf(LockLostError);
});
