// vacuumd keeps its pending deletions in its own SQLite file (DESIGN §4.1): killed with SIGKILL
// while 10,000 deletions wait, it is restarted by its supervisor, still has every one of them,
// and completes them all — without purging a record that was written again meanwhile, nor any
// record that was never deleted.
import { expect, test } from 'vitest';
import { ctdbngJson, useCluster, type JsonRecord } from '../helpers/cluster.js';
import {
  copiesEverywhere, cutOff, daemonPid, deleteMany, healAll, keysWithLmaster, linksUp, pauseRecoverds,
  vacuumMetric, vacuumNow, vacuumTunables, writeMany, type VacuumReport,
} from '../helpers/vacuum.js';

const fx = useCluster('vacuum-kill', { portBase: 14_400, tunables: vacuumTunables });
const dbName = 'kill.tdb';
const perLmaster = 5_000;
const pendingGauge = 'ctdbng_vacuum_pending_records';

/** vacuum --json, or undefined while vacuumd (restarting) does not answer. */
async function vacuumMaybe(pnn: number): Promise<VacuumReport | undefined> {
  try {
    return await vacuumNow(fx, pnn, dbName);
  } catch {
    return undefined;
  }
}

test('kill -9 of vacuumd with 10,000 deletions pending: after the supervisor restarts it, all are purged; none is lost or done twice wrongly', async () => {
  fx.defer(() => healAll(fx));
  const c0 = await fx.client(0);
  const db0 = await c0.attach(dbName);
  const db1 = await (await fx.client(1)).db(dbName);
  const db2 = await (await fx.client(2)).db(dbName);
  const vnnmap = (await c0.getVnnMap()).pnns;
  // Keys of lmaster 0 live on node 1, keys of lmaster 1 on node 0: each was created on its
  // lmaster and migrated, so its deletion needs the cluster phases on every member. A twentieth
  // was on node 2 first (stale data copies there). Node 2 is lmaster of none: it will be cut off.
  const k0 = keysWithLmaster('kill', 0, vnnmap, perLmaster + 200);
  const k1 = keysWithLmaster('kill', 1, vnnmap, perLmaster + 200);
  const doomed0 = k0.slice(0, perLmaster);
  const doomed1 = k1.slice(0, perLmaster);
  const kept = [...k0.slice(perLmaster), ...k1.slice(perLmaster)];
  await writeMany(db2, [...k0.filter((_, i) => i % 20 === 0), ...k1.filter((_, i) => i % 20 === 0)], (k) => `old-${k}`);
  await Promise.all([writeMany(db1, k0, (k) => `v-${k}`), writeMany(db0, k1, (k) => `v-${k}`)]);

  // No recovery (hung recovery daemons) and node 2 cut off: the cluster phases cannot reach it,
  // so every deletion stays pending in the lmaster's vacuumd.
  pauseRecoverds(fx);
  cutOff(fx, 2);
  await expect.poll(async () => [...await linksUp(fx, 0), ...await linksUp(fx, 1)], { timeout: 20_000 }).toEqual([1, 0]);
  await Promise.all([deleteMany(db1, doomed0), deleteMany(db0, doomed1)]);
  await expect.poll(async () => [await vacuumMetric(fx, 0, pendingGauge, dbName), await vacuumMetric(fx, 1, pendingGauge, dbName)], { timeout: 60_000, interval: 250 })
    .toEqual([perLmaster, perLmaster]);
  expect((await vacuumNow(fx, 0, dbName)).pending + (await vacuumNow(fx, 1, dbName)).pending).toBe(2 * perLmaster);

  // kill -9 every vacuumd; the supervisors restart them.
  const killed = [0, 1, 2].map((p) => fx.cluster.kill(p, 'vacuumd'));
  await expect.poll(() => [0, 1, 2].map((p) => { try { return daemonPid(fx, p, 'vacuumd') !== killed[p]; } catch { return false; } }), { timeout: 30_000 })
    .toEqual([true, true, true]);
  // Nothing lost: the restarted daemons still hold every deletion.
  await expect.poll(async () => [(await vacuumMaybe(0))?.pending, (await vacuumMaybe(1))?.pending], { timeout: 30_000, interval: 250 })
    .toEqual([perLmaster, perLmaster]);

  // Some deleted records are written again before the deletions can complete.
  const again = [...doomed0.slice(0, 50), ...doomed1.slice(0, 50)];
  await Promise.all([writeMany(db0, doomed0.slice(0, 50), (k) => `again-${k}`), writeMany(db1, doomed1.slice(0, 50), (k) => `again-${k}`)]);

  // Heal (still no recovery): vacuumd itself completes every deletion on every node.
  healAll(fx);
  const gone = new Set([...doomed0, ...doomed1].filter((k) => !again.includes(k)));
  await expect.poll(async () => {
    const left = await Promise.all([0, 1, 2].map(async (p) => (await vacuumMaybe(p))?.pending));
    return { left, copies: (await copiesEverywhere(fx, dbName, gone)).length };
  }, { timeout: 90_000, interval: 500 }).toEqual({ left: [0, 0, 0], copies: 0 });

  const want = new Map<string, string>([...kept.map((k) => [k, `v-${k}`] as const), ...again.map((k) => [k, `again-${k}`] as const)]);
  const live = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(2), ['catdb', dbName]);
  const got = new Map(live.records.map((r) => [r.key, r.data]));
  expect([...gone].filter((k) => got.has(k)), 'deleted records in catdb').toEqual([]);
  expect([...want].filter(([k, v]) => got.get(k) !== v).map(([k]) => k), 'records kept or written again').toEqual([]);
  expect(got.size).toBe(want.size);
});
