// A cluster-wide traverse (`ctdbng catdb`) returns exactly the live records: each key once, with
// its dmaster's data, no tombstones and no stale copies (DESIGN §2.3).
import { expect, test } from 'vitest';
import type { Db } from '@ctdbng/client';
import { ctdbngJson, useCluster, type JsonRecord } from '../helpers/cluster.js';

const fx = useCluster('catdb', { portBase: 11_600 });
const dbName = 'catdb.tdb';
const recordsCount = 10_000;
const rewrittenCount = 500;
const deletedCount = 300;
const inFlightPerNode = 50;

/** Runs op over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, op: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await op(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Spreads items over the three nodes' dbs (item i on node (i + shift) % 3) and runs op on each. */
async function onNodes(dbs: Db[], indexes: readonly number[], shift: number, op: (db: Db, i: number) => Promise<void>): Promise<void> {
  await Promise.all(dbs.map((db, p) => pool(indexes.filter((i) => (i + shift) % 3 === p), inFlightPerNode, (i) => op(db, i))));
}

const keyOf = (i: number): string => `rec-${String(i).padStart(5, '0')}`;

test('`catdb` returns exactly the live records (no tombstones, no stale copies), for 10,000 records spread over 3 nodes', async () => {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  const all = Array.from({ length: recordsCount }, (_, i) => i);

  await onNodes(dbs, all, 0, (db, i) => db.withLock(keyOf(i), (rec) => rec.store(`v1-${i}`)));
  for (const i of all) expected.set(keyOf(i), `v1-${i}`);

  // Re-write 500 from another node: they migrate, and stale copies stay behind.
  const rewritten = all.filter((i) => i % 20 === 7);
  expect(rewritten.length).toBe(rewrittenCount);
  await onNodes(dbs, rewritten, 1, (db, i) => db.withLock(keyOf(i), (rec) => rec.store(`v2-${i}`)));
  for (const i of rewritten) expected.set(keyOf(i), `v2-${i}`);

  // Delete 300 (some of them rewritten ones) from yet another node: tombstones stay until vacuumed.
  const deleted = all.filter((i) => i % 33 === 2).slice(0, deletedCount);
  expect(deleted.length).toBe(deletedCount);
  await onNodes(dbs, deleted, 2, (db, i) => db.withLock(keyOf(i), (rec) => rec.delete()));
  for (const i of deleted) expected.delete(keyOf(i));

  const out = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(1), ['catdb', dbName]);
  const keys = out.records.map((r) => r.key);
  expect(new Set(keys).size).toBe(keys.length);   // each key once
  expect(keys.length).toBe(recordsCount - deletedCount);
  const seen = new Map(out.records.map((r) => [r.key, r.data]));
  expect(seen).toEqual(expected);
  // The nodes' own stores do hold stale copies and tombstones: catdb filtered them out.
  const local = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(1), ['cattdb', dbName]);
  expect(local.records.some((r) => r.dmaster !== 1 || r.data === '')).toBe(true);
});
