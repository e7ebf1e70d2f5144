// The talk's zombie scenario: a record deleted and vacuumed while node 2 was stopped does not come
// back when node 2 continues. Stopping clears node 2's copies' validity at once, and the recovery
// that follows takes it in as a witness, which holds no records (DESIGN §1, §5.4); a node that
// was not a participant at all keeps its stale copy and G_max leaves it out (zombie-cut-off).
import { expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { useCluster } from '../helpers/cluster.js';
import { cattdb, catdb, ctdbngOk, fastTunables, recover, vacuumPending, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-zombie-stopped', { portBase: 13_000, tunables: fastTunables });
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
  expect((await cattdb(fx, 2, dbName)).has(key), 'the stopped node is a witness of the new generation: it holds no records').toBe(false);
  expect(await ctdbngOk(fx, 2, ['--json', 'status']).then((r) => JSON.parse(r) as { vnnmap: number[] })).toMatchObject({ vnnmap: [0, 1] });

  await ctdbngOk(fx, 0, ['continue', '-n', '2']);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after continue`).toBe(false);
  expect((await catdb(fx, 0, dbName)).has(key)).toBe(false);

  await recover(fx, 1);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).has(key), `node ${p} after another recovery`).toBe(false);
  expect((await catdb(fx, 2, dbName)).has(key)).toBe(false);
});
