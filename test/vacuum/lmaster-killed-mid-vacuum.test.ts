// A deletion never comes back (DESIGN §4.3a, §5.4): vacuumd on the lmaster stops right after
// StoreTombstone reached every member (run/faults.json "pauseAfter"), and the lmaster's dbd is
// killed and restarted, losing its own copy. The members' exact tombstone copies win the
// recovery's merge over any older data, and the record stays deleted on every node.
import { expect, test } from 'vitest';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { catdb, cattdb, clearFaults, ctdbngOk, fastTunables, pidOf, recover, waitSettled, writeFaults } from '../helpers/recovery.js';

const fx = useCluster('vac-lmaster-killed', { portBase: 15_600, tunables: fastTunables });
const dbName = 'lmaster-killed.tdb';

test('vacuumd paused after StoreTombstone on the lmaster, then the lmaster\'s dbd killed and restarted: the deleted record never comes back on any node', async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const key = keyWithLmaster('lm-kill', 1, [0, 1, 2]);
  await ctdbngOk(fx, 0, ['writekey', dbName, key, 'alive']);
  await recover(fx, 0);
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).get(key)?.data, `node ${p}`).toBe('alive');

  writeFaults(fx, 1, { pauseAfter: 'storeTombstone' });
  await ctdbngOk(fx, 1, ['deletekey', dbName, key]);
  // StoreTombstone reached the members: each holds the lmaster's exact tombstone.
  await expect.poll(async () => {
    const copies = await Promise.all([0, 1, 2].map((p) => cattdb(fx, p, dbName).then((c) => c.get(key))));
    return copies.map((c) => (c === undefined ? 'none' : `${c.data === '' ? 'tomb' : 'data'}@${c.rsn}/${c.dmaster}`));
  }, { timeout: 20_000, interval: 100 }).toSatisfy((v: string[]) => v.every((x) => x === v[1]) && v[1]!.startsWith('tomb@') && v[1]!.endsWith('/1'));

  process.kill(pidOf(fx, 1, 'dbd'), 'SIGKILL');
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  for (const p of [0, 1, 2]) {
    expect((await catdb(fx, p, dbName)).has(key), `live on node ${p}`).toBe(false);
    expect((await cattdb(fx, p, dbName)).get(key)?.data ?? '', `copy on node ${p}`).toBe('');
  }
  clearFaults(fx, 1);
  await recover(fx, 2);
  // vacuumd finishes (or drops) the item; nothing brings the data back.
  await expect.poll(async () => (await Promise.all([0, 1, 2].map((p) => cattdb(fx, p, dbName)))).some((c) => c.has(key)), { timeout: 30_000, interval: 200 }).toBe(false);
  for (const p of [0, 1, 2]) expect((await catdb(fx, p, dbName)).has(key)).toBe(false);
});
