// Vacuum batches are answered a slice at a time (vacuum-support/slices.ts): a batch of more than
// sliceKeysMax keys does its first slice at once and the rest on later turns of the event loop,
// so client requests get served in between; a slice re-checks the generation and does nothing
// under a new one.
import { expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { sliceKeysMax } from '../src/core/vacuum-support/slices.js';
import { trimEntriesPerSlice } from '../src/core/vacuum-support/feed.js';
import { startCluster, type Cluster } from './harness.js';

/** n tombstones created and deleted on their lmaster, node 1: its local purges. */
function localTombstones(c: Cluster, n: number): { key: Buffer; rsn: number }[] {
  const out: { key: Buffer; rsn: number }[] = [];
  for (let i = 0; out.length < n; i++) {
    const key = Buffer.from(`slice-${i}`);
    if (lmasterOf(key, [0, 1, 2]) !== 1) continue;
    c.write(1, 'w', key, Buffer.from('v'));
    c.write(1, 'w', key, undefined);
    out.push({ key, rsn: c.record(1, key)!.rsn });
  }
  return out;
}

test('a purge of more keys than a slice runs one slice at once and the rest after the event loop had a turn', () => {
  const c = startCluster({ nodes: 3, dbName: 'slices.tdb' });
  const keys = localTombstones(c, sliceKeysMax * 2 + 10);
  const generation = c.cores[1]!.ctx.vnn.generation;
  const p = c.request(1, 'vacuumd', { purgeIfUnchanged: { dbId: c.dbId, generation, keys } });
  c.runUntilIdle();
  expect(p.done).toBe(false);
  expect(keys.filter((k) => c.record(1, k.key) === undefined)).toHaveLength(sliceKeysMax);
  // A client request that arrives now is served before the next slice.
  const other = Buffer.from('served-between-slices');
  const fl = c.fetchLock(1, 'client', other);
  c.runUntilIdle();
  expect(fl.done).toBe(true);
  expect(keys.filter((k) => c.record(1, k.key) === undefined)).toHaveLength(sliceKeysMax);
  c.advance(0);
  expect(p.body('purgeIfUnchangedReply').purged).toEqual(keys.map(() => true));
  expect(keys.every((k) => c.record(1, k.key) === undefined)).toBe(true);
  expect(c.cores[1]!.ctx.slices.size).toBe(0);
});

test('a slice that finds another generation purges nothing more: the keys not done answer false', () => {
  const c = startCluster({ nodes: 3, dbName: 'slices-gen.tdb' });
  const keys = localTombstones(c, sliceKeysMax + 5);
  const ctx = c.cores[1]!.ctx;
  const generation = ctx.vnn.generation;
  const p = c.request(1, 'vacuumd', { purgeIfUnchanged: { dbId: c.dbId, generation, keys } });
  c.runUntilIdle();
  // A recovery installed a new generation between the two slices (set directly: the scenario is the slice's own check).
  ctx.vnn = { ...ctx.vnn, generation: generation + 1 };
  c.advance(0);
  const purged = p.body('purgeIfUnchangedReply').purged;
  expect(purged.slice(0, sliceKeysMax).every(Boolean)).toBe(true);
  expect(purged.slice(sliceKeysMax)).toEqual([false, false, false, false, false]);
  expect(keys.slice(sliceKeysMax).every((k) => c.record(1, k.key) !== undefined)).toBe(true);
});

test('an ack of more feed entries than a slice trims them oldest first over several turns, then answers', () => {
  const c = startCluster({ nodes: 3, dbName: 'slices-feed.tdb' });
  localTombstones(c, trimEntriesPerSlice);
  const file = c.cores[1]!.ctx.dbs.get(c.dbId)!.file;
  const entries = file.feed.count();
  expect(entries).toBeGreaterThan(trimEntriesPerSlice);
  const p = c.request(1, 'vacuumd', { ackDeleted: { dbId: c.dbId, seq: file.feed.lastSeq() } });
  c.runUntilIdle();
  expect(p.done).toBe(false);
  expect(file.feed.count()).toBe(entries - trimEntriesPerSlice);
  expect(file.feed.since(0, 1)[0]!.seq).toBeGreaterThan(trimEntriesPerSlice - 1);
  c.advance(0);
  expect(p.done).toBe(true);
  expect(file.feed.count()).toBe(0);
});
