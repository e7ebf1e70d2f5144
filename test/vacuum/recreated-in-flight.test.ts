// A record written again while its deletion is still in flight (the lmaster holds the tombstone
// and cannot finish the cluster phases) keeps its new value everywhere: vacuumd drops the work
// item instead of purging (DESIGN §4.3–4.4), and no later vacuum or recovery removes it.
import { expect, test } from 'vitest';
import { cattdbRecord, ctdbngJson, keyWithLmaster, useCluster, type JsonRecord } from '../helpers/cluster.js';
import { cutOff, healAll, linksUp, pauseRecoverds, vacuumMetric, vacuumNow, vacuumTunables } from '../helpers/vacuum.js';

const fx = useCluster('vacuum-recreated', { portBase: 14_100, tunables: vacuumTunables });
const dbName = 'recreated.tdb';

test('A record re-created (written again) while its deletion is in flight keeps its new value on every node; the work item is dropped as NEWER', async () => {
  fx.defer(() => healAll(fx));
  const c0 = await fx.client(0);
  const c1 = await fx.client(1);
  const db0 = await c0.attach(dbName);
  const db1 = await c1.db(dbName);
  const db2 = await (await fx.client(2)).db(dbName);
  const vnnmap = (await c0.getVnnMap()).pnns;
  // Both with lmaster 1; a is written again on the lmaster, b on node 0 (the deleting node).
  const keys = { a: keyWithLmaster('recreated', 1, vnnmap, 0), b: keyWithLmaster('recreated', 1, vnnmap, 1) };
  for (const key of Object.values(keys)) {
    for (const [i, db] of [db0, db2, db0].entries()) {
      const rec = await db.fetchLock(key);
      await rec.store(`old-${i}`, { unlock: true });
    }
  }

  // Keep the deletions in flight: node 2 cut off, and no recovery to take it out of the vnnmap
  // (a recovery would settle the deletions through its merge instead of vacuumd).
  const resumeRecoverds = pauseRecoverds(fx);
  cutOff(fx, 2);
  await expect.poll(async () => [...await linksUp(fx, 0), ...await linksUp(fx, 1)], { timeout: 20_000 }).toEqual([1, 0]);

  const droppedBefore = await vacuumMetric(fx, 1, 'ctdbng_vacuum_dropped_total', dbName);
  for (const key of Object.values(keys)) {
    const rec = await db0.fetchLock(key);
    await rec.delete({ unlock: true });
  }
  // The tombstones reached the lmaster, whose vacuumd holds them: node 2 does not answer.
  await expect.poll(async () => (await vacuumNow(fx, 1, dbName)).pending, { timeout: 20_000 }).toBe(2);
  for (const key of Object.values(keys)) {
    expect(await cattdbRecord(fx.nodeBase(1), dbName, key)).toMatchObject({ dmaster: 1, data: '' });
  }

  // Written again before the deletion could complete.
  const ra = await db1.fetchLock(keys.a);
  await ra.store('new-a', { unlock: true });
  const rb = await db0.fetchLock(keys.b);
  await rb.store('new-b', { unlock: true });

  // vacuumd drops both items (re-created) rather than purging them.
  await expect.poll(async () => (await vacuumNow(fx, 1, dbName)).pending, { timeout: 20_000 }).toBe(0);
  expect(await vacuumMetric(fx, 1, 'ctdbng_vacuum_dropped_total', dbName)).toBeGreaterThanOrEqual(droppedBefore + 2);

  // Heal, let the recovery daemons run a recovery, vacuum everywhere: the new values stay on every node.
  healAll(fx);
  await expect.poll(async () => (await linksUp(fx, 2)).length, { timeout: 20_000 }).toBe(2);
  resumeRecoverds();
  await ctdbngJson(fx.nodeBase(0), ['recover']);
  for (const p of [0, 1, 2]) await vacuumNow(fx, p, dbName);
  const want = { [keys.a]: 'new-a', [keys.b]: 'new-b' };
  for (const p of [0, 1, 2]) {
    for (const [key, value] of Object.entries(want)) {
      const read = await ctdbngJson<{ found: boolean; data: string }>(fx.nodeBase(p), ['readkey', dbName, key]);
      expect(read, `node ${p} reads ${key}`).toMatchObject({ found: true, data: value });
    }
  }
  const live = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(0), ['catdb', dbName]);
  expect(Object.fromEntries(live.records.filter((r) => r.key in want).map((r) => [r.key, r.data]))).toEqual(want);
});
