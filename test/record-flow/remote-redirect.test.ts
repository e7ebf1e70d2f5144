// A record asked for on a node that has no copy is chased through its lmaster to its dmaster and
// migrated to the asker; rsn rises on every migration and the dmaster's copy always has the
// highest rsn of all copies (DESIGN §2.1.3–5).
import { expect, test } from 'vitest';
import type { Db } from '@ctdbng/client';
import { cattdbRecord, keyWithLmaster, useCluster, type ClusterFixture } from '../helpers/cluster.js';

const fx = useCluster('remote-redirect', { portBase: 11_300 });
const dbName = 'redirect.tdb';

interface Copy { pnn: number; rsn: number; dmaster: number; data: string }

/** Every node's copy of key, read with a local traverse (cattdb's request). */
async function copiesOf(dbs: Db[], key: string): Promise<Copy[]> {
  const copies: Copy[] = [];
  for (const [pnn, db] of dbs.entries()) {
    for await (const r of db.traverse({ local: true })) {
      if (r.key.toString() === key) copies.push({ pnn, rsn: r.header.rsn, dmaster: r.header.dmaster, data: r.data.toString() });
    }
  }
  return copies;
}

async function dbsOnAllNodes(f: ClusterFixture): Promise<Db[]> {
  return Promise.all([0, 1, 2].map(async (p) => (await f.client(p)).attach(dbName)));
}

test('Remote access with redirect: a record mastered on node 2 (lmaster 1) asked for on node 0 migrates to node 0 through the lmaster', async () => {
  const dbs = await dbsOnAllNodes(fx);
  const c0 = await fx.client(0);
  const key = keyWithLmaster('redirect', 1, (await c0.getVnnMap()).pnns);
  await dbs[2]!.withLock(key, (rec) => rec.store('from-2'));
  expect((await cattdbRecord(fx.nodeBase(2), dbName, key))?.dmaster).toBe(2);
  expect(await cattdbRecord(fx.nodeBase(0), dbName, key)).toBeUndefined();

  const stats = async (p: number): Promise<Record<string, number>> => (await c0.statistics({ pnn: p })).counters;
  const before = await Promise.all([0, 1, 2].map(stats));
  const rec = await dbs[0]!.fetchLock(key);
  expect(rec.data.toString()).toBe('from-2');
  await rec.store('at-0', { unlock: true });
  const after = await Promise.all([0, 1, 2].map(stats));
  expect(after[2]!['migrations_out']! - before[2]!['migrations_out']!).toBe(1);
  expect(after[0]!['migrations_in']! - before[0]!['migrations_in']!).toBe(1);
  // node 0 had no copy: its call went to the lmaster, which redirected it to node 2.
  expect(after[1]!['redirects']! - before[1]!['redirects']!).toBeGreaterThanOrEqual(1);

  const [n0, n1, n2] = await Promise.all([0, 1, 2].map((p) => cattdbRecord(fx.nodeBase(p), dbName, key)));
  expect(n0).toMatchObject({ dmaster: 0, data: 'at-0' });
  expect(n1).toMatchObject({ dmaster: 0 });   // the lmaster knows the new dmaster
  expect(n2).toMatchObject({ dmaster: 0, data: 'from-2' });   // stale copy, names the new dmaster
  expect(n0!.rsn).toBeGreaterThan(n1!.rsn);
  expect(n0!.rsn).toBeGreaterThan(n2!.rsn);
});

test('rsn rises on every migration and the dmaster copy always has the highest rsn of all copies', async () => {
  const dbs = await dbsOnAllNodes(fx);
  const c0 = await fx.client(0);
  const key = keyWithLmaster('rsn-walk', 1, (await c0.getVnnMap()).pnns);
  const path = [2, 0, 1, 2, 1, 0, 2, 0];
  let lastRsn = 0;
  for (const [step, pnn] of path.entries()) {
    await dbs[pnn]!.withLock(key, (rec) => rec.store(`step-${step}`));
    const copies = await copiesOf(dbs, key);
    const master = copies.find((c) => c.pnn === pnn);
    expect(master, `step ${step}: node ${pnn} has the record`).toMatchObject({ dmaster: pnn, data: `step-${step}` });
    expect(master!.rsn, `step ${step}: rsn rose on migration to node ${pnn}`).toBeGreaterThan(lastRsn);
    for (const other of copies.filter((c) => c.pnn !== pnn)) {
      expect(other.rsn, `step ${step}: node ${other.pnn}'s copy is older than the dmaster's`).toBeLessThan(master!.rsn);
    }
    // The lmaster always knows the dmaster.
    expect(copies.find((c) => c.pnn === 1)?.dmaster, `step ${step}: lmaster's view`).toBe(pnn);
    lastRsn = master!.rsn;
  }
});
