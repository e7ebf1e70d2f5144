// kill -9 of a node's dbd: the others recover without it (or with its new incarnation), the records
// mastered on the surviving nodes are intact, and the node rejoins with a fresh, valid copy — also
// when the supervisor restarts it faster than the keepalive limit could notice it was gone, because
// the new incarnation gives it away (DESIGN §2.1.9, §5.4).
import { describe, expect, test } from 'vitest';
import { useCluster, type ClusterFixture } from '../helpers/cluster.js';
import { cattdb, catdb, fastTunables, nodeState, nodeStates, waitSettled } from '../helpers/recovery.js';

const dbName = 'dbd-killed.tdb';

/**
 * Writes records on nodes 0 and 1 (they are their dmasters), SIGKILLs node 2's dbd, waits for the
 * survivors to move to a new generation within `boundMs`, and checks the data and the rejoin.
 */
async function killDbdOfNode2(fx: ClusterFixture, boundMs: number): Promise<void> {
  const dbs = await Promise.all([0, 1].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  for (const [p, db] of dbs.entries()) {
    for (let i = 0; i < 40; i++) {
      const key = `on${p}-${i}`;
      await db.withLock(key, (rec) => rec.store(`value-${key}`));
      expected.set(key, `value-${key}`);
    }
  }
  const before = await nodeStates(fx, [0, 1, 2]);
  const generationBefore = before[0]!.generation;
  const incarnationBefore = before[2]!.incarnation;

  fx.cluster.kill(2, 'dbd');
  // The survivors recover: a new generation on both, and node 2 either out of the vnnmap or in it
  // with the new incarnation (it then took part in that recovery and holds its generation). The
  // poll's timeout is the bound plus slack for a loaded CI machine; no time is measured.
  await expect.poll(async () => {
    const [s0, s1, s2] = await nodeStates(fx, [0, 1, 2]);
    if (s0 === undefined || s1 === undefined || s0.frozen || s1.frozen) return 'survivors busy';
    if (s0.generation === generationBefore || s1.generation !== s0.generation) return 'no new generation';
    if (!s0.vnnmap.includes(2)) return 'recovered without node 2';
    if (s2 !== undefined && s2.incarnation !== incarnationBefore && s2.generation === s0.generation) return 'recovered with the new node 2';
    return `node 2 in the vnnmap of ${s0.generation} but not its new incarnation`;
  }, { timeout: boundMs + 10_000, interval: 50 }).toMatch(/^recovered with/);

  // Node 2 is back with a new incarnation and, after the recovery that takes it in, holds every
  // live record (it was wiped at start and filled from the merge).
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  expect((await nodeState(fx, 2))!.incarnation).not.toBe(incarnationBefore);
  const live = await catdb(fx, 0, dbName);
  for (const [key, data] of expected) expect(live.get(key)?.data, `${key} live`).toBe(data);
  for (const p of [0, 1, 2]) {
    const copies = await cattdb(fx, p, dbName);
    for (const [key, data] of expected) expect(copies.get(key)?.data, `${key} on node ${p}`).toBe(data);
  }
}

describe('keepalive limit reached', () => {
  const fx = useCluster('rec-dbd-killed', { portBase: 13_400, tunables: fastTunables });
  test('kill -9 of a node\'s dbd: the others recover within KeepaliveInterval × KeepaliveLimit + 2 s, the survivors\' records are intact, and the node rejoins with a fresh, valid copy', async () => {
    await killDbdOfNode2(fx, (fastTunables['KeepaliveInterval']! * fastTunables['KeepaliveLimit']! + 2) * 1000);
  });
});

describe('restart faster than the keepalive limit', () => {
  // KeepaliveLimit 100: missed keepalives would take 100 s to count, so only the new incarnation
  // (the restarted dbd's NodeHello, its generation 0) can reveal the restart in time.
  const fx = useCluster('rec-dbd-killed-fast', { portBase: 13_410, tunables: { ...fastTunables, KeepaliveLimit: 100 } });
  test('kill -9 of a node\'s dbd restarted before any keepalive is missed: its new incarnation is noticed and it rejoins with a fresh, valid copy', async () => {
    await killDbdOfNode2(fx, 5_000);
  });
});
