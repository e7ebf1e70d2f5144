// A shared-access client and a client on the dbd (ZeroMQ) path exclude each other on one record
// lock, and a dead shared-access holder is seen dead by its pid at once (DESIGN §2.1.7, §2.2).
import { expect, test } from 'vitest';
import { keyWithLmaster, startScript, startTogether, useCluster } from '../helpers/cluster.js';

// A long lease: a lock that comes free well within it was broken by the pid check.
const fx = useCluster('exclusion', { portBase: 11_200, tunables: { LockLeaseSeconds: 30 } });
const dbName = 'exclusion.tdb';
const perClient = 500;

test('Shared access and the dbd path exclude each other: two processes incrementing one record 500 times each end at 1000', async () => {
  const c0 = await fx.client(0);
  const db = await c0.attach(dbName);
  const key = keyWithLmaster('excl', 1, (await c0.getVnnMap()).pnns);
  // Node 0 becomes dmaster, so that the shared-access process can lock in the file.
  await db.withLock(key, (rec) => rec.store('0'));

  const shared = startScript(fx, 'incr.mjs', [fx.nodeBase(0), dbName, key, String(perClient), 'shared', 'barrier']);
  const viaDbd = startScript(fx, 'incr.mjs', [fx.nodeBase(0), dbName, key, String(perClient), 'dbd', 'barrier']);
  await startTogether([shared, viaDbd]);
  const [sharedOut, dbdOut] = await Promise.all([shared.success(), viaDbd.success()]);
  const s = JSON.parse(sharedOut) as { done: number; shared: number; dbd: number };
  const d = JSON.parse(dbdOut) as { done: number; shared: number; dbd: number };
  expect(s.done).toBe(perClient);
  expect(d).toEqual({ done: perClient, shared: 0, dbd: perClient });
  // The shared-access process really took locks in the file (and may have fallen back to dbd
  // whenever the other one held the lock).
  expect(s.shared).toBeGreaterThan(0);

  const final = await db.fetch(key);
  expect(final.data.toString()).toBe(String(2 * perClient));
});

test('A shared-access client SIGKILLed while holding a lock does not block others: its pid is seen dead at once', async () => {
  const c0 = await fx.client(0);
  const db = await c0.attach(dbName);
  const key = keyWithLmaster('excl-kill', 2, (await c0.getVnnMap()).pnns);
  await db.withLock(key, (rec) => rec.store('before'));

  const holder = startScript(fx, 'hold-lock.mjs', [fx.nodeBase(0), dbName, key, 'shared']);
  const [, via] = await holder.line(/^locked (\w+)$/);
  expect(via).toBe('shared');
  await holder.kill();

  // Well within LockLeaseSeconds (30 s): only the pid check can free the lock this soon.
  const rec = await db.fetchLock(key, { timeoutMs: 10_000 });
  expect(rec.data.toString()).toBe('before');
  await rec.store('after', { unlock: true });
  // A shared-access client on the same node gets it too.
  const other = await fx.client(0, { sharedAccess: true });
  const odb = await other.attach(dbName);
  const rec2 = await odb.fetchLock(key, { timeoutMs: 10_000 });
  expect(rec2.data.toString()).toBe('after');
  await rec2.unlock();
});
