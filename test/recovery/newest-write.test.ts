// Recovery keeps the newest write: records written on several nodes in turn (so they migrate and
// their rsn rises, leaving stale copies with lower rsns behind) come out of a recovery with the
// value of their last write — the copy with the highest rsn — on every node (DESIGN §5.3.2).
// The equal-rsn rules (prefer the copy from the node its own header names as dmaster, else CTDB's
// rule) are unit-tested on the merge: packages/recoverd/test/merge.test.ts.
import { expect, test } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, fastTunables, recover, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-newest-write', { portBase: 13_200, tunables: fastTunables });
const dbName = 'newest-write.tdb';
const keys = Array.from({ length: 30 }, (_, i) => `newest-${i}`);

test('Recovery keeps the newest write: each key ends with the value of its highest-rsn copy, its last write', async () => {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const last = new Map<string, string>();
  // Key i is written 2 + i % 4 times, by nodes i, i+1, i+2, ... in turn.
  for (const [i, key] of keys.entries()) {
    for (let w = 0; w < 2 + (i % 4); w++) {
      const pnn = (i + w) % 3;
      const value = `${key}-write${w}-on${pnn}`;
      await dbs[pnn]!.withLock(key, (rec) => rec.store(value));
      last.set(key, value);
    }
  }
  // Before: several copies per key; the one with the highest rsn holds the last write.
  const before = await Promise.all([0, 1, 2].map((p) => cattdb(fx, p, dbName)));
  const maxRsn = new Map<string, number>();
  for (const key of keys) {
    const copies = before.map((m) => m.get(key)).filter((r) => r !== undefined);
    expect(copies.length, `${key} has stale copies`).toBeGreaterThan(1);
    const newest = copies.reduce((a, b) => (b.rsn > a.rsn ? b : a));
    expect(newest.data, `${key}: the highest rsn is the last write`).toBe(last.get(key));
    expect(copies.filter((c) => c.rsn === newest.rsn).length, `${key}: one copy with the highest rsn`).toBe(1);
    maxRsn.set(key, newest.rsn);
  }

  await recover(fx, 1);
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const live = await catdb(fx, 2, dbName);
  for (const key of keys) expect(live.get(key)?.data, `${key} in catdb`).toBe(last.get(key));
  for (const p of [0, 1, 2]) {
    const after = await cattdb(fx, p, dbName);
    for (const key of keys) {
      const r = after.get(key);
      expect(r, `${key} on node ${p}`).toMatchObject({ data: last.get(key), dmaster: leader });
      // rsn kept on the pushes; the leader's own copy gets rsn + 1 (strictly newest).
      expect(r!.rsn, `${key} rsn on node ${p}`).toBe(maxRsn.get(key)! + (p === leader ? 1 : 0));
    }
  }
});
