// The talk's zombie scenario: a record deleted and vacuumed while node 2 was stopped does not come
// back when node 2 (which still holds a stale copy) continues — a node left out of a recovery
// contributes no records to the one that brings it back (DESIGN §5.4).
import { expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, ctdbngOk, fastTunables, recover, vacuumPending, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-zombie-stopped', { portBase: 43_000, tunables: fastTunables });
const dbName = 'zombie-stopped.tdb';

/** A key whose lmaster is 1 both with node 2 in the vnnmap and without it. */
function keyLmaster1(): string {
  for (let i = 0; ; i++) {
    const key = `zombie-${i}`;
    if (lmasterOf(Buffer.from(key), [0, 1, 2]) === 1 && lmasterOf(Buffer.from(key), [0, 1]) === 1) return key;
  }
}

test("The talk's zombie scenario: a record deleted and vacuumed while node 2 is stopped stays deleted after `continue`", async () => {
  const key = keyLmaster1();
  await ctdbngOk(fx, 0, ['attach', dbName]);
  await ctdbngOk(fx, 0, ['writekey', dbName, key, 'alive']);
  await recover(fx, 0);
  // The recovery pushed the record to every node.
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).get(key)?.data, `node ${p}'s copy`).toBe('alive');

  await ctdbngOk(fx, 0, ['stop', '-n', '2']);
  await waitSettled(fx, [0, 1], [0, 1]);

  await ctdbngOk(fx, 0, ['deletekey', dbName, key]);
  // vacuumd purges the tombstone on the members (0 and 1); node 2, stopped, keeps its stale copy.
  await expect.poll(async () => {
    const pending = (await vacuumPending(fx, 0, dbName)) + (await vacuumPending(fx, 1, dbName));
    const copies = [(await cattdb(fx, 0, dbName)).has(key), (await cattdb(fx, 1, dbName)).has(key)];
    return { pending, copies };
  }, { timeout: 30_000, interval: 200 }).toEqual({ pending: 0, copies: [false, false] });
  expect((await cattdb(fx, 2, dbName)).get(key)?.data, 'the stopped node still holds the stale copy').toBe('alive');

  await ctdbngOk(fx, 0, ['continue', '-n', '2']);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after continue`).toBe(false);
  expect((await catdb(fx, 0, dbName)).has(key)).toBe(false);

  await recover(fx, 1);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after another recovery`).toBe(false);
  expect((await catdb(fx, 2, dbName)).has(key)).toBe(false);
});
