// A tombstone whose record lock a client on another node than the lmaster still holds is not
// vacuumed away under it: vacuumd retries (route BUSY, with backoff) and completes the deletion
// on every node once the lock is released (DESIGN §4.2, §4.4). The member side (a locked stale
// copy answers LOCKED) is test/vacuum/locked-member-core.test.ts.
import { expect, test } from 'vitest';
import { cattdbRecord, keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { vacuumMetric, vacuumNow, vacuumTunables } from '../helpers/vacuum.js';

const fx = useCluster('vacuum-locked', { portBase: 14_200, tunables: vacuumTunables });
const dbName = 'locked.tdb';

test('A record locked by a client on another node is not deleted there; the deletion is retried and completes after the lock is released', async () => {
  const c0 = await fx.client(0);
  const db0 = await c0.attach(dbName);
  const db2 = await (await fx.client(2)).db(dbName);
  const key = keyWithLmaster('locked', 1, (await c0.getVnnMap()).pnns);
  for (const [i, db] of [db0, db2, db0].entries()) {
    const rec = await db.fetchLock(key);
    await rec.store(`v${i}`, { unlock: true });
  }

  // A client on node 0 (dmaster, not lmaster) deletes it and keeps holding the lock.
  const retriedBefore = await vacuumMetric(fx, 0, 'ctdbng_vacuum_retried_total', dbName);
  const held = await db0.fetchLock(key);
  await held.delete();

  // vacuumd of node 0 tries, is told BUSY, and retries; the record stays where it is, locked.
  await expect.poll(() => vacuumMetric(fx, 0, 'ctdbng_vacuum_retried_total', dbName), { timeout: 20_000 }).toBeGreaterThanOrEqual(retriedBefore + 2);
  expect(await vacuumNow(fx, 0, dbName)).toMatchObject({ pending: 1 });
  expect(await cattdbRecord(fx.nodeBase(0), dbName, key)).toMatchObject({ dmaster: 0, data: '' });
  expect(await cattdbRecord(fx.nodeBase(2), dbName, key), 'stale copy on node 2 untouched').toMatchObject({ dmaster: 0, data: 'v1' });
  expect(await cattdbRecord(fx.nodeBase(1), dbName, key), 'the lmaster was not handed the record').toMatchObject({ dmaster: 0 });

  // Released: the next retry hands it to the lmaster, which removes it from every node.
  await held.unlock();
  await expect.poll(
    () => Promise.all([0, 1, 2].map((p) => cattdbRecord(fx.nodeBase(p), dbName, key))),
    { timeout: 30_000, interval: 200 },
  ).toEqual([undefined, undefined, undefined]);
  for (const p of [0, 1, 2]) expect(await vacuumNow(fx, p, dbName), `node ${p}`).toMatchObject({ pending: 0, failed: 0 });
});
