// Shared access (DESIGN §2.2) against a real SQLite db file: a record this node is dmaster of is
// locked, stored and unlocked with no message to dbd; every other case falls back to dbd.
import { afterEach, expect, test } from 'vitest';
import { join } from 'node:path';
import { DbFile } from '@ctdbng/store';
import type { Envelope } from '@ctdbng/protocol';
import { connect, LockLostError, type Client, type Db } from '../src/index.js';
import type { RequestBody } from '../src/connection.js';
import { FakeDbd, type HelloOptions } from './fake-dbd.js';

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

function leaseAheadNs(ms: number): number {
  return Number(process.hrtime.bigint()) + ms * 1e6;
}

/** dbd's side: grants locks with token 42 and answers Ok to the rest. */
function dbdHandler(path: string) {
  const info = { dbId: 11, name: 'sa.db', persistent: false, path };
  return (env: Envelope): RequestBody => {
    switch (env.body) {
      case 'attach': return { attachReply: { db: info } };
      case 'fetchLock': return { fetchLockReply: { header: { rsn: 9, dmaster: 0 }, data: Buffer.from('via dbd'), token: 42, leaseMs: 30_000 } };
      default: return { ok: {} };
    }
  };
}

/** A db file of node 0 holding key "k" (dmaster 0), a live lease, and a client with shared access. */
async function setup(hello: HelloOptions = {}): Promise<{ fake: FakeDbd; file: DbFile; db: Db }> {
  fake = await FakeDbd.start({ pnn: 0, incarnation, ...hello });
  const path = join(fake.dir, 'db', 'volatile', 'sa.db.0.sqlite');
  file = DbFile.open(path, { dbId: 11, name: 'sa.db', persistent: false, pnn: 0 });
  file.meta.set({ incarnation, lease_until_ns: leaseAheadNs(5_000) });
  file.records.put(Buffer.from('k'), { rsn: 4, dmaster: 0, flags: 0 }, Buffer.from('here'));
  fake.handler = dbdHandler(path);
  client = await connect({ socket: fake.socket, sharedAccess: true });
  return { fake, file, db: await client.attach('sa.db') };
}

test('lock, store and unlock of a local record send nothing to dbd', async () => {
  const { fake, file, db } = await setup();
  const before = fake.received.length;
  const rec = await db.fetchLock('k');
  expect(rec.via).toBe('shared');
  expect(rec.header).toEqual({ rsn: 4, dmaster: 0, flags: 0 });
  expect(rec.data.toString()).toBe('here');
  await rec.store('updated');
  await rec.unlock();
  expect(file.records.get(Buffer.from('k'))?.data.toString()).toBe('updated');
  await db.withLock('k', (r) => r.store('again', { unlock: true }));
  await db.withLock('k', (r) => r.delete());
  expect(fake.received.length).toBe(before);
  expect(file.records.get(Buffer.from('k'))?.data.length).toBe(0);
  expect(file.records.get(Buffer.from('k'))?.rsn).toBe(4);
  expect(file.locks.get(Buffer.from('k'))).toBeUndefined();
  expect(file.feed.count()).toBe(1); // the delete entered the vacuum feed in its transaction
});

test('a shared lock is held in the file: a second lock falls back to dbd', async () => {
  const { fake, db } = await setup();
  const first = await db.fetchLock('k');
  const second = await db.fetchLock('k');
  expect(first.via).toBe('shared');
  expect(second.via).toBe('dbd');
  expect(second.data.toString()).toBe('via dbd');
  expect(fake.requests('fetchLock')).toHaveLength(1);
});

test('a record locked by another holder falls back to dbd', async () => {
  const { fake, file, db } = await setup();
  file.lock(Buffer.from('k'), { holder: 'dbd', pid: 1, expiresNs: leaseAheadNs(10_000), token: 5 });
  expect((await db.fetchLock('k')).via).toBe('dbd');
  expect(fake.requests('fetchLock')[0]?.fetchLock?.dbId).toBe(11);
});

test('a record of another dmaster, or absent here, falls back to dbd', async () => {
  const { fake, file, db } = await setup();
  file.records.put(Buffer.from('k'), { rsn: 4, dmaster: 1, flags: 0 }, Buffer.from('stale'));
  expect((await db.fetchLock('k')).via).toBe('dbd');
  expect((await db.fetchLock('absent')).via).toBe('dbd');
  expect(fake.requests('fetchLock')).toHaveLength(2);
});

test('a lapsed lease falls back to dbd', async () => {
  const { file, db } = await setup();
  file.meta.set({ lease_until_ns: leaseAheadNs(-1) });
  expect((await db.fetchLock('k')).via).toBe('dbd');
});

test('a frozen db falls back to dbd', async () => {
  const { file, db } = await setup();
  file.meta.set({ frozen: 1 });
  expect((await db.fetchLock('k')).via).toBe('dbd');
});

test('another dbd incarnation in the file falls back to dbd', async () => {
  const { file, db } = await setup();
  file.meta.set({ incarnation: incarnation + 1 });
  expect((await db.fetchLock('k')).via).toBe('dbd');
});

test('a shared lock whose db froze stores and unlocks through dbd with the same token', async () => {
  const { fake, file, db } = await setup();
  const rec = await db.fetchLock('k');
  expect(rec.via).toBe('shared');
  const token = file.locks.get(Buffer.from('k'))?.token;
  file.meta.set({ frozen: 1 });
  await rec.store('later');
  expect(fake.requests('store')[0]?.store).toMatchObject({ dbId: 11, token, unlock: false });
  await rec.unlock();
  // The unlock of a shared lock needs no fence: it releases the row in the file.
  expect(file.locks.get(Buffer.from('k'))).toBeUndefined();
});

test('a broken shared lock fails the store with LockLostError', async () => {
  const { file, db } = await setup();
  const rec = await db.fetchLock('k');
  file.sql.prepare('DELETE FROM locks').run();
  await expect(rec.store('x')).rejects.toBeInstanceOf(LockLostError);
  expect(file.records.get(Buffer.from('k'))?.data.toString()).toBe('here');
});

test('closing the client releases its shared locks in the file', async () => {
  const { file, db } = await setup();
  await db.fetchLock('k');
  expect(file.locks.get(Buffer.from('k'))).toBeDefined();
  await client?.close();
  expect(file.locks.get(Buffer.from('k'))).toBeUndefined();
});

test('shared access is off when dbd runs on another host', async () => {
  const { fake, db } = await setup({ host: 'another-host' });
  expect((await db.fetchLock('k')).via).toBe('dbd');
  expect(fake.requests('fetchLock')).toHaveLength(1);
});
