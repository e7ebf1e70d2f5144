// A node that was left out of generations becomes the leader: it brings back no deleted record
// and loses no write made while it was out (DESIGN §5.4: G_max comes from every participant's
// freeze reply, never from the leader's own node alone).
import { expect, test } from 'vitest';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, ctdbngOk, fastTunables, nodeStates, pidOf, vacuumPending, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-stale-leader', { portBase: 15_100, tunables: fastTunables });
const dbName = 'stale-leader.tdb';

test('stop node 2, delete and vacuum k, continue node 2, make node 2 the leader: k stays deleted and no write made meanwhile is lost', async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const k = keyWithLmaster('stale-k', 1, [0, 1]);
  await ctdbngOk(fx, 0, ['writekey', dbName, k, 'doomed']);
  await ctdbngOk(fx, 0, ['recover']);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).get(k)?.data, `node ${p}`).toBe('doomed');

  await ctdbngOk(fx, 0, ['stop', '-n', '2']);
  await waitSettled(fx, [0, 1], [0, 1]);
  await ctdbngOk(fx, 0, ['deletekey', dbName, k]);
  const written = new Map<string, string>();
  for (let i = 0; i < 20; i++) {
    const key = `stale-w-${i}`;
    await ctdbngOk(fx, i % 2, ['writekey', dbName, key, `while-out-${i}`]);
    written.set(key, `while-out-${i}`);
  }
  // Vacuumed: the tombstone is gone from the members.
  await expect.poll(async () => {
    const pending = (await vacuumPending(fx, 0, dbName)) + (await vacuumPending(fx, 1, dbName));
    return { pending, on0: (await cattdb(fx, 0, dbName)).has(k), on1: (await cattdb(fx, 1, dbName)).has(k) };
  }, { timeout: 30_000, interval: 200 }).toEqual({ pending: 0, on0: false, on1: false });

  await ctdbngOk(fx, 0, ['continue', '-n', '2']);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  // Kill the other nodes' recoverds in turn until node 2 leads. While the leader's recoverd
  // restarts, the third one is paused, so that node 2 is the likely winner of the election.
  for (let round = 0; round < 20; round++) {
    const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
    if (leader === 2) break;
    const other = leader === 0 ? 1 : 0;
    const before = Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0));
    const paused = pidOf(fx, other, 'recoverd');
    process.kill(paused, 'SIGSTOP');
    try {
      process.kill(pidOf(fx, leader, 'recoverd'), 'SIGKILL');
      await expect.poll(async () => Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0)), { timeout: 30_000 }).toBeGreaterThan(before);
    } finally {
      process.kill(paused, 'SIGCONT');
    }
  }
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  expect(leader).toBe(2);
  // Node 2 leads a recovery of its own now.
  await ctdbngOk(fx, 2, ['recover']);
  for (const p of [0, 1, 2]) {
    expect((await cattdb(fx, p, dbName)).get(k)?.data ?? '', `k on node ${p}`).toBe('');
    const live = await catdb(fx, p, dbName);
    expect(live.has(k)).toBe(false);
    for (const [key, data] of written) expect(live.get(key)?.data, `${key} seen from node ${p}`).toBe(data);
  }
});
