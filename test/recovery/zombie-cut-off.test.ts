// The talk's zombie scenario with node 2 cut off instead of stopped (the fault switch,
// run/faults.json, drops all of node 2's node and recoverd traffic in both directions): a record
// deleted and vacuumed on the majority side stays deleted when the link comes back — node 2 was
// left out of the recoveries meanwhile, so its stale copy does not count (DESIGN §5.4).
import { expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, ctdbngOk, cutOff, fastTunables, healAll, nodeState, recover, vacuumPending, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-zombie-cut-off', { portBase: 13_100, tunables: fastTunables });
const dbName = 'zombie-cut-off.tdb';

/** A key whose lmaster is 1 both with node 2 in the vnnmap and without it. */
function keyLmaster1(): string {
  for (let i = 0; ; i++) {
    const key = `zombie-${i}`;
    if (lmasterOf(Buffer.from(key), [0, 1, 2]) === 1 && lmasterOf(Buffer.from(key), [0, 1]) === 1) return key;
  }
}

test('A record deleted and vacuumed while node 2 is cut off stays deleted when the link comes back', async () => {
  fx.defer(() => healAll(fx));
  const key = keyLmaster1();
  await ctdbngOk(fx, 0, ['attach', dbName]);
  await ctdbngOk(fx, 0, ['writekey', dbName, key, 'alive']);
  await recover(fx, 0);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).get(key)?.data, `node ${p}'s copy`).toBe('alive');

  cutOff(fx, 2);
  await waitSettled(fx, [0, 1], [0, 1]);
  // The lone node sees no majority: inactive (frozen, its volatile copies invalid).
  await expect.poll(async () => (await nodeState(fx, 2))?.inactive, { timeout: 15_000 }).toBe(true);
  // dbd declares the link down only after KeepaliveLimit missed keepalives (recoverd notices
  // earlier); until then a cluster-wide attach (which writekey/deletekey do first) waits for node 2
  // and fails with ERR_NODE_UNREACHABLE after ControlTimeout.
  await expect.poll(async () => [(await nodeState(fx, 0))?.linksUp.includes(2), (await nodeState(fx, 1))?.linksUp.includes(2)], { timeout: 15_000 })
    .toEqual([false, false]);

  await ctdbngOk(fx, 0, ['deletekey', dbName, key]);
  await expect.poll(async () => {
    const pending = (await vacuumPending(fx, 0, dbName)) + (await vacuumPending(fx, 1, dbName));
    const copies = [(await cattdb(fx, 0, dbName)).has(key), (await cattdb(fx, 1, dbName)).has(key)];
    return { pending, copies };
  }, { timeout: 30_000, interval: 200 }).toEqual({ pending: 0, copies: [false, false] });
  expect((await cattdb(fx, 2, dbName)).get(key)?.data, 'the cut-off node still holds the stale copy').toBe('alive');

  healAll(fx);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after healing`).toBe(false);
  expect((await catdb(fx, 2, dbName)).has(key)).toBe(false);

  await recover(fx, 2);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after another recovery`).toBe(false);
  expect((await catdb(fx, 0, dbName)).has(key)).toBe(false);
});
