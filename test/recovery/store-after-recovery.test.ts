// After a recovery, a store on the dmaster followed by another recovery keeps the new value —
// CTDB's equal-rsn trap: a client's store keeps the rsn (§2.1.5), so without care every node holds
// the same rsn after a recovery. Two rules of DESIGN §5.3.2 keep the dmaster's copy winning: the
// leader stores its own copies with rsn + 1, and on equal rsn the merge prefers the copy pulled
// from the node its header names as dmaster (either alone is enough: with the rsn bump removed
// this test still passes; newest-write.test.ts checks the bump itself). Checked for a store through
// dbd and through shared access, the latter followed by a recovery run by a new leader.
import { expect, test } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, fastTunables, nodeStates, recover, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-store-after', { portBase: 13_600, tunables: fastTunables });
const dbName = 'store-after.tdb';
const keys = Array.from({ length: 20 }, (_, i) => `sar-${i}`);

async function storeOnLeaderAfterRecovery(prefix: string, o: { sharedAccess: boolean; newLeader: boolean }): Promise<void> {
  const writers = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  for (const [i, key] of keys.entries()) await writers[i % 3]!.withLock(`${prefix}-${key}`, (rec) => rec.store('old'));
  await recover(fx, 0);
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const rsnBefore = await cattdb(fx, leader, dbName);

  const db = await (await fx.client(leader, { sharedAccess: o.sharedAccess })).attach(dbName);
  for (const key of keys) await db.withLock(`${prefix}-${key}`, (rec) => rec.store('new'));
  const rsnAfter = await cattdb(fx, leader, dbName);
  for (const key of keys) {
    const k = `${prefix}-${key}`;
    // A local store on the dmaster: no migration, the rsn is kept.
    expect(rsnAfter.get(k), k).toMatchObject({ dmaster: leader, data: 'new', rsn: rsnBefore.get(k)!.rsn });
  }

  if (o.newLeader) {
    const termBefore = Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0));
    fx.cluster.kill(leader, 'recoverd');
    await expect.poll(async () => Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0)), { timeout: 20_000 })
      .toBeGreaterThan(termBefore);
    await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  }
  await recover(fx, (leader + 1) % 3);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const live = await catdb(fx, 0, dbName);
  for (const p of [0, 1, 2]) {
    const copies = await cattdb(fx, p, dbName);
    for (const key of keys) {
      expect(live.get(`${prefix}-${key}`)?.data, `${prefix}-${key} live`).toBe('new');
      expect(copies.get(`${prefix}-${key}`)?.data, `${prefix}-${key} on node ${p}`).toBe('new');
    }
  }
}

test('After a recovery, a store on the dmaster (through dbd) followed by another recovery keeps the new value', async () => {
  await storeOnLeaderAfterRecovery('dbd', { sharedAccess: false, newLeader: false });
});

test('After a recovery, a store on the dmaster with shared access followed by a recovery under a new leader keeps the new value', async () => {
  await storeOnLeaderAfterRecovery('shared', { sharedAccess: true, newLeader: true });
});
