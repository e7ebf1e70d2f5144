// The record lock of a client that dies holding it does not block anyone beyond the lease
// (LockLeaseSeconds); on the holder's host dbd may break it sooner, when it sees the pid dead
// (DESIGN §2.1.7).
import { expect, test } from 'vitest';
import { keyWithLmaster, startScript, useCluster } from '../helpers/cluster.js';

const lockLeaseSeconds = 3;
const fx = useCluster('killed-holder', { portBase: 11_500, tunables: { LockLeaseSeconds: lockLeaseSeconds } });
const dbName = 'killed.tdb';
/** The lease plus ample slack for a loaded CI machine: a bound, not a measurement. */
const waitBoundMs = lockLeaseSeconds * 1000 + 12_000;

test('A client killed with SIGKILL while holding a lock: another client gets the lock within the lease time', async () => {
  const c0 = await fx.client(0);
  const c2 = await fx.client(2);
  const db0 = await c0.attach(dbName);
  const db2 = await c2.attach(dbName);
  const key = keyWithLmaster('killed', 1, (await c0.getVnnMap()).pnns);
  await db0.withLock(key, (rec) => rec.store('0'));

  // The holder: a process on node 0 on the dbd (ZeroMQ) path, no shared access.
  const holder = startScript(fx, 'hold-lock.mjs', [fx.nodeBase(0), dbName, key, 'dbd']);
  const [, via] = await holder.line(/^locked (\w+)$/);
  expect(via).toBe('dbd');

  // Two clients wait for the lock before the holder dies: one on the same node, one on node 2.
  const increment = async (rec: Awaited<ReturnType<typeof db0.fetchLock>>): Promise<void> => {
    await rec.store(String(Number(rec.data.toString()) + 1), { unlock: true });
  };
  const sameNode = db0.fetchLock(key, { timeoutMs: waitBoundMs }).then(increment);
  const otherNode = db2.fetchLock(key, { timeoutMs: waitBoundMs }).then(increment);
  await holder.kill();
  await Promise.all([sameNode, otherNode]);

  // Both got the lock, one after the other, and nothing the dead holder held was lost.
  expect((await db0.fetch(key)).data.toString()).toBe('2');
  const broken = (await c0.statistics()).counters['locks_broken']!;
  expect(broken).toBeGreaterThanOrEqual(1);
});
