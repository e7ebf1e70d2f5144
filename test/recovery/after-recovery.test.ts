// After a recovery every active node holds every live record, the leader is dmaster of all of them,
// and clients that were waiting during the recovery complete without error (DESIGN §5.3). A client
// that held a record lock when the freeze came gets LockLostError for its store and writes nothing:
// no store is accepted without a lease, and a freeze ends the lease at once (§2.2).
import { expect, test } from 'vitest';
import { LockLostError, type Db } from '@ctdbng/client';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, fastTunables, recover, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-after-recovery', { portBase: 13_300, tunables: fastTunables });
const dbName = 'after-recovery.tdb';
const records = 210;
const loopsPerNode = 3;

test('After a recovery every active node holds every live record, the leader is dmaster of all of them, and clients waiting during it complete without error', async () => {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  await Promise.all(dbs.map(async (db, p) => {
    for (let i = p; i < records; i += 3) {
      const key = `rec-${i}`;
      await db.withLock(key, (rec) => rec.store(`v-${i}-on${p}`));
      expected.set(key, `v-${i}-on${p}`);
    }
  }));

  // Clients on every node fetch_lock/store a few shared keys in a loop, so they keep migrating
  // them between nodes and are waiting for each other (and for the recovery) when it starts.
  // These keys move again after the thaw, so the check below leaves them out.
  const errors: unknown[] = [];
  let ops = 0;
  let stop = false;
  const loopClients = await Promise.all([0, 1, 2].flatMap((p) => Array.from({ length: loopsPerNode }, () => fx.client(p))));
  const loopDbs: Db[] = await Promise.all(loopClients.map((c) => c.attach(dbName)));
  const loops = loopDbs.map(async (db, n) => {
    for (let i = 0; !stop; i++) {
      const key = `loop-${(n + i) % 4}`;
      try {
        await db.withLock(key, async (rec) => {
          const v = rec.data.length === 0 ? 0 : Number(rec.data.toString());
          await rec.store(String(v + 1));
        });
        ops++;
      } catch (err) {
        errors.push(err);
      }
    }
  });
  await expect.poll(() => ops, { timeout: 20_000 }).toBeGreaterThan(50);
  const opsBefore = ops;
  const generation = await recover(fx, 0);
  // The loops go on after the thaw.
  await expect.poll(() => ops, { timeout: 20_000 }).toBeGreaterThan(opsBefore + 50);
  stop = true;
  await Promise.all(loops);
  // Only holders caught by the freeze fail, with LockLostError; nothing else does.
  expect(errors.filter((e) => !(e instanceof LockLostError)).map(String)).toEqual([]);

  const { leader, generation: settled } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  // No other recovery ran meanwhile, or the dmaster check below would not be about this one.
  expect(settled).toBe(generation);
  for (const p of [0, 1, 2]) {
    const copies = await cattdb(fx, p, dbName);
    for (const [key, data] of expected) {
      expect(copies.get(key), `${key} on node ${p}`).toMatchObject({ data, dmaster: leader });
    }
  }
  // The loop counters are consistent: every increment landed once.
  let total = 0;
  for (let k = 0; k < 4; k++) {
    const r = await dbs[0]!.fetch(`loop-${k}`);
    total += Number(r.data.toString());
  }
  expect(total).toBe(ops);
});
