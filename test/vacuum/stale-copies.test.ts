// A record deleted on a node that is neither its lmaster nor its only holder is removed by
// vacuuming from every node's store, stale copies included (DESIGN §4.2–4.4).
import { expect, test } from 'vitest';
import { cattdbRecord, ctdbngJson, keyWithLmaster, useCluster, type JsonRecord } from '../helpers/cluster.js';
import { vacuumNow, vacuumTunables } from '../helpers/vacuum.js';

const fx = useCluster('vacuum-stale', { portBase: 14_000, tunables: vacuumTunables });
const dbName = 'stale.tdb';

test('Delete on a node that is neither lmaster nor the only holder → after the vacuum the record is gone from every node\'s local store (cattdb), including stale copies', async () => {
  const c0 = await fx.client(0);
  const c2 = await fx.client(2);
  const db0 = await c0.attach(dbName);
  const db2 = await c2.db(dbName);
  const key = keyWithLmaster('stale', 1, (await c0.getVnnMap()).pnns);

  // Migrate it with data between nodes 0 and 2: every node ends up holding a copy.
  for (const [i, db] of [db0, db2, db0, db2].entries()) {
    const rec = await db.fetchLock(key);
    await rec.store(`v${i}`, { unlock: true });
  }
  const before = await Promise.all([0, 1, 2].map((p) => cattdbRecord(fx.nodeBase(p), dbName, key)));
  expect(before.map((r) => r?.dmaster)).toEqual([2, 2, 2]);
  expect(before[0]).toMatchObject({ data: 'v2', flags: expect.arrayContaining(['MIGRATED_WITH_DATA']) });   // stale copy with data
  expect(before[2]).toMatchObject({ data: 'v3' });

  // Node 2 (dmaster, not lmaster) deletes it.
  const rec = await db2.fetchLock(key);
  await rec.delete({ unlock: true });

  // Vacuum on the deleting node (hands the tombstone to the lmaster) and on the lmaster (the
  // cluster phases and the purge), until no node's store holds any copy.
  await expect.poll(async () => {
    await vacuumNow(fx, 2, dbName);
    await vacuumNow(fx, 1, dbName);
    return Promise.all([0, 1, 2].map((p) => cattdbRecord(fx.nodeBase(p), dbName, key)));
  }, { timeout: 30_000, interval: 100 }).toEqual([undefined, undefined, undefined]);

  for (const p of [0, 1, 2]) {
    expect(await vacuumNow(fx, p, dbName), `node ${p} has nothing left to vacuum`).toMatchObject({ pending: 0, failed: 0 });
    const live = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(p), ['catdb', dbName]);
    expect(live.records.filter((r) => r.key === key)).toEqual([]);
    const read = await ctdbngJson<{ found: boolean }>(fx.nodeBase(p), ['readkey', dbName, key]);
    expect(read.found).toBe(false);
  }
});
