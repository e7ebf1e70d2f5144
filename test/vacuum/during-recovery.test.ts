// Vacuuming while recoveries run: dbd refuses vacuum work while frozen or of a stale generation
// (ERR_FROZEN, ERR_WRONG_GENERATION), vacuumd pauses and resumes with the new generation, and in
// the end every deleted record is gone from every node and every other record kept its value
// (DESIGN §4.3, §4.5, §5.3). dbd exposes no counter of refused vacuum batches, so the refusals
// themselves are not asserted; the end state is.
import { expect, test } from 'vitest';
import { LockLostError, type Db } from '@ctdbng/client';
import { ctdbngJson, useCluster, type JsonRecord } from '../helpers/cluster.js';
import { copiesEverywhere, inPool, keysWithLmaster, retryBusy, vacuumNow, vacuumTunables, writeMany } from '../helpers/vacuum.js';

const fx = useCluster('vacuum-recovery', { portBase: 14_500, tunables: vacuumTunables });
const dbName = 'during.tdb';

/** fetch_lock + delete; again when a recovery broke the lock in between (ERR_LOCK_LOST wrote nothing). */
async function deleteKey(db: Db, key: string): Promise<void> {
  for (;;) {
    const rec = await retryBusy(() => db.fetchLock(key));
    try {
      await retryBusy(() => rec.delete({ unlock: true }));
      return;
    } catch (err) {
      if (!(err instanceof LockLostError)) throw err;
    }
  }
}

test('Vacuum during a recovery: TryDelete is refused while frozen or with a stale generation, and the work completes afterwards', async () => {
  const c0 = await fx.client(0);
  const dbs = [await c0.attach(dbName), await (await fx.client(1)).db(dbName), await (await fx.client(2)).db(dbName)];
  const vnnmap = (await c0.getVnnMap()).pnns;
  // Keys of every lmaster, each written on the next node (created there by migration, with a
  // stale copy on its lmaster), so every deletion needs the cluster phases.
  const byNode = [0, 1, 2].map((lm) => keysWithLmaster('during', lm, vnnmap, 600));
  await Promise.all(byNode.map((keys, lm) => writeMany(dbs[(lm + 1) % 3]!, keys, (k) => `v-${k}`)));
  const doomed = byNode.map((keys) => keys.filter((_, i) => i % 4 !== 0));
  const kept = byNode.flatMap((keys) => keys.filter((_, i) => i % 4 === 0));

  // Delete on the dmasters while the leader runs recovery after recovery.
  const generations: number[] = [];
  const recoveries = (async () => {
    for (let i = 0; i < 4; i++) {
      generations.push((await ctdbngJson<{ generation: number }>(fx.nodeBase(i % 3), ['recover'])).generation);
    }
  })();
  await Promise.all([...doomed.map((keys, lm) => inPool(keys, 32, (k) => deleteKey(dbs[(lm + 1) % 3]!, k))), recoveries]);
  expect(new Set(generations).size).toBe(4);

  const gone = new Set(doomed.flat());
  await expect.poll(async () => {
    const left = await Promise.all([0, 1, 2].map(async (p) => (await vacuumNow(fx, p, dbName)).pending));
    return { left, copies: (await copiesEverywhere(fx, dbName, gone)).length };
  }, { timeout: 60_000, interval: 250 }).toEqual({ left: [0, 0, 0], copies: 0 });

  const live = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(1), ['catdb', dbName]);
  const got = new Map(live.records.map((r) => [r.key, r.data]));
  expect([...gone].filter((k) => got.has(k)), 'deleted records in catdb').toEqual([]);
  expect(kept.filter((k) => got.get(k) !== `v-${k}`), 'records kept').toEqual([]);
});
