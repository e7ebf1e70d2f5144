// Killing the leader's recoverd (or its whole node) loses no volatile record held by the surviving
// nodes: a new leader is elected (a higher term) and, as the survivors took part in the current
// generation, their copies count in its first recovery (DESIGN §5.1 "losing the leader does not
// invalidate anyone", §5.4). "The whole node" here is SIGKILL of both its dbd and its recoverd
// (`ctdbng-cluster kill PNN dbd`, then `kill PNN recoverd`): the supervisor restarts them as a
// rebooted node, whose dbd starts with empty volatile dbs.
import { expect, test } from 'vitest';
import type { Db } from '@ctdbng/client';
import { useCluster } from '../helpers/cluster.js';
import { catdb, ctdbngOk, fastTunables, nodeStates, recover, status, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-leader-killed', { portBase: 13_500, tunables: fastTunables });
const dbName = 'leader-killed.tdb';

async function writeAll(dbs: readonly (Db | undefined)[], prefix: string, expected: Map<string, string>): Promise<void> {
  await Promise.all(dbs.map(async (db, p) => {
    if (db === undefined) return;
    for (let i = 0; i < 30; i++) {
      const key = `${prefix}-on${p}-${i}`;
      await db.withLock(key, (rec) => rec.store(`value-${key}`));
      expected.set(key, `value-${key}`);
    }
  }));
}

/** Every expected record is live (catdb) and readable (readkey) with its value, seen from node `from`. */
async function expectAllReadable(expected: Map<string, string>, from: number): Promise<void> {
  const live = await catdb(fx, from, dbName);
  for (const [key, data] of expected) expect(live.get(key)?.data, `${key} in catdb on node ${from}`).toBe(data);
  const db = await (await fx.client(from)).attach(dbName);
  for (const [key, data] of expected) expect((await db.fetch(key)).data.toString(), `${key} read on node ${from}`).toBe(data);
}

/** The highest term any of the nodes' dbds has seen. */
async function highestTerm(): Promise<number> {
  return Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0));
}

test("Killing the leader's recoverd loses no record: a new leader is elected and every record stays readable with its value", async () => {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  await writeAll(dbs, 'a', expected);
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const termBefore = await highestTerm();

  fx.cluster.kill(leader, 'recoverd');
  await expect.poll(highestTerm, { timeout: 20_000 }).toBeGreaterThan(termBefore);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  for (const p of [0, 1, 2]) await expectAllReadable(expected, p);
});

test("Killing the leader's whole node (dbd and recoverd) loses no record held by the surviving nodes", async () => {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  await writeAll(dbs, 'b', expected);
  // A recovery puts a copy of every record on every node; then more records are written on the
  // nodes that will survive (their dmasters).
  await recover(fx, 0);
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const survivors = [0, 1, 2].filter((p) => p !== leader);
  await writeAll(dbs.map((db, p) => (p === leader ? undefined : db)), 'c', expected);
  const termBefore = await highestTerm();
  const leaderStatus = await status(fx, survivors[0]!);
  expect(leaderStatus.leader).toBe(leader);

  fx.cluster.kill(leader, 'dbd');
  fx.cluster.kill(leader, 'recoverd');
  await expect.poll(highestTerm, { timeout: 20_000 }).toBeGreaterThan(termBefore);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  for (const p of [...survivors, leader]) await expectAllReadable(expected, p);
  await ctdbngOk(fx, leader, ['writekey', dbName, 'after-restart', 'ok']);
  expect((await catdb(fx, survivors[0]!, dbName)).get('after-restart')?.data).toBe('ok');
});
