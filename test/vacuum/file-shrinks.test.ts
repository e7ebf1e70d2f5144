// Vacuuming gives the space of purged records back to the file system (DESIGN §4.6: ReclaimSpace,
// SQLite incremental vacuum in small steps): after 90 % of a 100,000-record db is deleted, each
// node's db file shrinks to at most half of its size within the next passes.
import { expect, test } from 'vitest';
import type { Db } from '@ctdbng/client';
import { keysWithLmaster, deleteMany, inPool, retryBusy, vacuumNow, vacuumTunables, volatileFileSize } from '../helpers/vacuum.js';
import { useCluster } from '../helpers/cluster.js';

const fx = useCluster('vacuum-shrink', { portBase: 14_600, tunables: vacuumTunables });
const dbName = 'shrink.tdb';
const records = 100_000;
const value = 'x'.repeat(100);

/** Waits until node pnn's main db file stops changing between two looks (a checkpoint went through). */
async function settledSize(pnn: number): Promise<number> {
  let last = -1;
  let size = 0;
  await expect.poll(() => {
    const prev = last;
    last = volatileFileSize(fx, pnn, dbName);
    size = last;
    return last === prev && last > 0;
  }, { timeout: 30_000, interval: 600 }).toBe(true);
  return size;
}

/**
 * Creates each record on its lmaster with one request to dbd (a read of a missing key makes the
 * lmaster create it), then writes it through shared access (no request at all, DESIGN §2.2).
 */
function fill(db: Db, keys: readonly string[]): Promise<void> {
  return inPool(keys, 128, async (k) => {
    await retryBusy(() => db.fetch(k));
    const rec = await retryBusy(() => db.fetchLock(k));
    await retryBusy(() => rec.store(value, { unlock: true }));
  });
}

test('Deleting 90% of a 100,000-record db makes its file shrink by at least half within the next passes', async () => {
  const c0 = await fx.client(0);
  await c0.attach(dbName);
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p, { sharedAccess: true })).db(dbName)));
  const vnnmap = (await c0.getVnnMap()).pnns;
  // Every record created on its lmaster (no migration), a third of them per node; deleted there
  // through shared access, so vacuumd purges them on the fast path (§4.1).
  const per = Math.ceil(records / 3);
  const keys = [0, 1, 2].map((lm) => keysWithLmaster('shrink', lm, vnnmap, per));
  await Promise.all(keys.map((ks, p) => fill(dbs[p]!, ks)));
  const before: number[] = [];
  for (const p of [0, 1, 2]) before.push(await settledSize(p));

  await Promise.all(keys.map((ks, p) => deleteMany(dbs[p]!, ks.filter((_, i) => i % 10 !== 0), 128)));
  await expect.poll(async () => Promise.all([0, 1, 2].map(async (p) => (await vacuumNow(fx, p, dbName)).pending)), { timeout: 60_000, interval: 250 })
    .toEqual([0, 0, 0]);
  await expect.poll(() => [0, 1, 2].map((p) => volatileFileSize(fx, p, dbName) <= before[p]! / 2), { timeout: 60_000, interval: 250 })
    .toEqual([true, true, true]);
  for (const p of [0, 1, 2]) expect(volatileFileSize(fx, p, dbName), `node ${p}: was ${before[p]} bytes`).toBeLessThanOrEqual(before[p]! / 2);
}, 240_000);
