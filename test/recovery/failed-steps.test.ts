// A recovery that fails part-way loses nothing (DESIGN §5.4): after an install or a thaw that
// failed on one node, or a leader killed between the push and the install, the next recovery
// keeps every record written before, with its value, on every node. (The wipe a review found:
// the pushed copies carried the new generation and the next recovery counted none of them.)
import { expect, test } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, clearFaults, fastTunables, faultsRead, nodeStates, pidOf, waitSettled, writeFaults } from '../helpers/recovery.js';

// Failures are not banned here: the node must come back as a member once the fault is cleared.
// RerecoveryTimeout paces the retries of the failing recovery (about 10 a second).
const fx = useCluster('rec-failed-steps', { portBase: 15_000, tunables: { ...fastTunables, RecoveryBanCount: 1000, RerecoveryTimeout: 100 } });
const dbName = 'failed-steps.tdb';

async function writeRecords(prefix: string, count: number): Promise<Map<string, string>> {
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  const expected = new Map<string, string>();
  await Promise.all(dbs.map(async (db, p) => {
    for (let i = p; i < count; i += 3) {
      const key = `${prefix}-${i}`;
      await db.withLock(key, (rec) => rec.store(`${prefix}-v${i}@${p}`));
      expected.set(key, `${prefix}-v${i}@${p}`);
    }
  }));
  return expected;
}

async function expectEverywhere(expected: ReadonlyMap<string, string>): Promise<void> {
  for (const p of [0, 1, 2]) {
    const copies = await cattdb(fx, p, dbName);
    for (const [key, data] of expected) expect(copies.get(key)?.data, `${key} on node ${p}`).toBe(data);
  }
}

/** Asks node 0's dbd for a recovery (the leader runs it at its next pass). */
async function askRecovery(): Promise<void> {
  const c = await fx.client(0);
  await c.requestRecovery('test');
}

test('failStep installGeneration on node 2 during a recovery, then cleared and recovered again: every record written before is on every node with its value', async () => {
  const expected = await writeRecords('inst', 60);
  const { generation } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  writeFaults(fx, 2, { failStep: 'installGeneration' });
  await faultsRead();
  await askRecovery();
  // Another node installed a newer generation; node 2 did not (its install failed).
  await expect.poll(async () => {
    const [s0, , s2] = await nodeStates(fx, [0, 1, 2]);
    return (s0?.generation ?? 0) > generation && s2?.generation === generation;
  }, { timeout: 20_000, interval: 50 }).toBe(true);
  clearFaults(fx, 2);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  await expectEverywhere(expected);
});

test('failStep thaw on node 2, then cleared: every record written before is on every node with its value', async () => {
  const expected = await writeRecords('thaw', 60);
  const { generation } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  writeFaults(fx, 2, { failStep: 'thaw' });
  await faultsRead();
  await askRecovery();
  // Every node installed the new generation, node 2 stays frozen for it.
  await expect.poll(async () => {
    const states = await nodeStates(fx, [0, 1, 2]);
    return states.every((s) => (s?.generation ?? 0) > generation) && states[2]?.frozen === true;
  }, { timeout: 20_000, interval: 50 }).toBe(true);
  clearFaults(fx, 2);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  await expectEverywhere(expected);
});

test("the leader's recoverd killed (SIGKILL) between push and install: the next leader's recovery keeps every record", async () => {
  const expected = await writeRecords('kill', 60);
  const { generation, leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  // Every install fails: the leader pushes everywhere and stops there, again and again (a node
  // may install one generation before it reads the fault switch: it is frozen all the same).
  for (const p of [0, 1, 2]) writeFaults(fx, p, { failStep: 'installGeneration' });
  await faultsRead();
  await askRecovery();
  const frozen = (): Promise<boolean> => nodeStates(fx, [0, 1, 2]).then((s) => s.every((x) => x?.frozen === true));
  await expect.poll(frozen, { timeout: 20_000, interval: 50 }).toBe(true);
  process.kill(pidOf(fx, leader, 'recoverd'), 'SIGKILL');
  for (const p of [0, 1, 2]) clearFaults(fx, p);
  const after = await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  expect(after.generation).toBeGreaterThan(generation);
  await expectEverywhere(expected);
});
