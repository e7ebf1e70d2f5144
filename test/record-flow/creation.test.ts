// A new key asked for on a node that is not its lmaster is created by the lmaster (rsn 1,
// AUTOMATIC) and migrated to the asker, which ends as dmaster with the higher rsn (DESIGN §2.1.3–5).
import { expect, test } from 'vitest';
import { cattdbRecord, keyWithLmaster, useCluster } from '../helpers/cluster.js';

const fx = useCluster('creation', { portBase: 11_000 });
const dbName = 'creation.tdb';

test("The talk's creation flow: node 1 (lmaster) creates a new key asked for on node 0 and migrates it there", async () => {
  const c0 = await fx.client(0);
  const db = await c0.attach(dbName);
  const { pnns } = await c0.getVnnMap();
  const key = keyWithLmaster('create', 1, pnns);
  const before1 = (await c0.statistics({ pnn: 1 })).counters;
  const before0 = (await c0.statistics()).counters;

  const rec = await db.fetchLock(key);
  expect(rec.via).toBe('dbd');
  expect(rec.data.length).toBe(0);
  await rec.store('hello', { unlock: true });

  const after1 = (await c0.statistics({ pnn: 1 })).counters;
  const after0 = (await c0.statistics()).counters;
  expect(after1['records_created']! - before1['records_created']!).toBe(1);
  expect(after1['migrations_out']! - before1['migrations_out']!).toBe(1);
  expect(after0['migrations_in']! - before0['migrations_in']!).toBe(1);

  const onLmaster = await cattdbRecord(fx.nodeBase(1), dbName, key);
  const onNode0 = await cattdbRecord(fx.nodeBase(0), dbName, key);
  const onNode2 = await cattdbRecord(fx.nodeBase(2), dbName, key);
  // node 1, lmaster, keeps the (empty) copy it created, rewritten to name node 0 as dmaster.
  expect(onLmaster).toMatchObject({ key, dmaster: 0, data: '' });
  expect(onLmaster!.rsn).toBeGreaterThanOrEqual(1);
  expect(onLmaster!.flags).toContain('AUTOMATIC');
  // node 0 is dmaster, with the data and a strictly higher rsn.
  expect(onNode0).toMatchObject({ key, dmaster: 0, data: 'hello' });
  expect(onNode0!.rsn).toBeGreaterThan(onLmaster!.rsn);
  // node 2 took no part.
  expect(onNode2).toBeUndefined();
});
