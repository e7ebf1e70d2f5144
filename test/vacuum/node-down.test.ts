// A node cut off while deletions are being vacuumed — it holds stale copies with data of the
// deleted records — does not stop them: they complete (vacuumd retries; the recovery that takes
// the node out settles them) and, when the node returns, none of the deleted records comes back
// on any node, while the records not deleted keep their values (DESIGN §4.3–4.5, §5.4).
import { expect, test } from 'vitest';
import { ctdbngJson, useCluster, type JsonRecord } from '../helpers/cluster.js';
import { copiesEverywhere, cutOff, healAll, keysWithLmaster, localCopies, vacuumNow, vacuumTunables, writeMany, deleteMany } from '../helpers/vacuum.js';

const fx = useCluster('vacuum-node-down', { portBase: 14_300, tunables: vacuumTunables });
const dbName = 'nodedown.tdb';

interface Status { generation: number; vnnmap: number[]; nodes: { pnn: number; flags: string[] }[] }

test('A node down during the vacuum: the deletion is retried and completes (after it returns, or after the recovery that removes it); nothing deleted comes back', async () => {
  fx.defer(() => healAll(fx));
  const c0 = await fx.client(0);
  const db0 = await c0.attach(dbName);
  const db2 = await (await fx.client(2)).db(dbName);
  const vnnmap = (await c0.getVnnMap()).pnns;
  // Keys of lmasters 0 and 1, written on node 2 and then on node 0: node 2 keeps stale data copies.
  const keys = [...keysWithLmaster('down', 0, vnnmap, 150), ...keysWithLmaster('down', 1, vnnmap, 150)];
  const doomed = keys.filter((_, i) => i % 3 !== 0);
  const kept = keys.filter((_, i) => i % 3 === 0);
  await writeMany(db2, keys, (k) => `old-${k}`);
  await writeMany(db0, keys, (k) => `val-${k}`);
  expect((await localCopies(fx, 2, dbName, new Set(doomed))).filter((c) => c.data !== '')).toHaveLength(doomed.length);

  // Node 2 goes away; node 0 (dmaster of every key) deletes two thirds of them at once.
  cutOff(fx, 2);
  await deleteMany(db0, doomed);

  // The deletions complete on the nodes that are left, with node 2 out of the vnnmap.
  const doomedSet = new Set(doomed);
  await expect.poll(async () => (await ctdbngJson<Status>(fx.nodeBase(0), ['status'])).vnnmap, { timeout: 30_000 }).toEqual([0, 1]);
  await expect.poll(async () => {
    const left = await Promise.all([0, 1].map(async (p) => (await vacuumNow(fx, p, dbName)).pending));
    const copies = [...await localCopies(fx, 0, dbName, doomedSet), ...await localCopies(fx, 1, dbName, doomedSet)];
    return { left, copies: copies.length };
  }, { timeout: 30_000, interval: 200 }).toEqual({ left: [0, 0], copies: 0 });

  // Node 2 returns; it is taken back in and its stale copies do not come back.
  healAll(fx);
  await expect.poll(async () => {
    const s = await ctdbngJson<Status>(fx.nodeBase(0), ['status']);
    return { vnnmap: s.vnnmap, flags: s.nodes.map((n) => n.flags) };
  }, { timeout: 30_000 }).toEqual({ vnnmap: [0, 1, 2], flags: [['OK'], ['OK'], ['OK']] });
  // Node 2 has installed the generation node 0 has now (both read in each look: another
  // recovery may follow the one that took node 2 back, and move both on).
  await expect.poll(async () => {
    const on2 = (await ctdbngJson<{ generation: number }>(fx.nodeBase(2), ['getvnnmap'])).generation;
    const on0 = (await ctdbngJson<Status>(fx.nodeBase(0), ['status'])).generation;
    return on2 === on0 ? 'same generation' : `node 2 at ${on2}, node 0 at ${on0}`;
  }, { timeout: 30_000 }).toBe('same generation');
  for (const p of [0, 1, 2]) await vacuumNow(fx, p, dbName);

  expect(await copiesEverywhere(fx, dbName, doomedSet), 'no copy of a deleted record on any node').toEqual([]);
  for (const p of [0, 2]) {
    const live = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(p), ['catdb', dbName]);
    const got = new Map(live.records.map((r) => [r.key, r.data]));
    expect(doomed.filter((k) => got.has(k)), `catdb on node ${p}: deleted records`).toEqual([]);
    expect(kept.filter((k) => got.get(k) !== `val-${k}`), `catdb on node ${p}: records kept`).toEqual([]);
  }
  for (const k of doomed.slice(0, 10)) {
    expect((await db2.fetch(k)).found, `${k} read on node 2`).toBe(false);
  }
});
