// kill -9 of a dbd while records migrate between the other two nodes under load (DESIGN §2.1,
// §5.4): after the recovery no record has two dmasters, and every acknowledged write is there —
// the killed node was only the records' lmaster, never their only holder.
import { expect, test } from 'vitest';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { catdb, ctdbngOk, fastTunables, ownershipViolations, pidOf, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-kill-under-load', { portBase: 15_700, tunables: fastTunables });
const dbName = 'kill-under-load.tdb';
const keys = [0, 1, 2, 3].map((i) => keyWithLmaster('load', 1, [0, 1, 2], i));

test('kill -9 of node 1\'s dbd while counters migrate between nodes 0 and 2 through it: no record has two dmasters and every acknowledged increment is there', async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const acked = new Map(keys.map((k) => [k, 0]));
  const dbs = await Promise.all([0, 0, 2, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  for (const k of keys) await dbs[0]!.withLock(k, (rec) => rec.store('0'));
  let stop = false;
  let ops = 0;
  const errors: string[] = [];
  const loops = dbs.map(async (db, n) => {
    for (let i = 0; !stop; i++) {
      const key = keys[(n + i) % keys.length]!;
      try {
        await db.withLock(key, (rec) => rec.store(String(Number(rec.data.toString() || '0') + 1)));
        acked.set(key, acked.get(key)! + 1);
        ops++;
      } catch (err) {
        errors.push(err instanceof Error ? err.name : String(err));
      }
    }
  });
  await expect.poll(() => ops, { timeout: 20_000 }).toBeGreaterThan(100);
  process.kill(pidOf(fx, 1, 'dbd'), 'SIGKILL');
  const before = ops;
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  await expect.poll(() => ops, { timeout: 30_000 }).toBeGreaterThan(before + 100);
  stop = true;
  await Promise.all(loops);
  // Only holders caught by the recovery's freeze fail; nothing is written for them.
  expect(errors.filter((e) => e !== 'LockLostError')).toEqual([]);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  expect(await ownershipViolations(fx, [0, 1, 2], dbName)).toEqual([]);
  const live = await catdb(fx, 1, dbName);
  for (const k of keys) expect(Number(live.get(k)?.data), k).toBe(acked.get(k));
});
