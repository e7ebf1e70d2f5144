// A recovery needs a quorum (DESIGN §1): with 2 of 3 dbds gone the survivor serves no record and
// `status` says "no quorum"; service returns when one comes back. A dbd restarted within a
// second is a stranger until a recovery takes it in: it never becomes a second dmaster (§5.4).
import { expect, test } from 'vitest';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { cattdb, ctdbngOk, fastTunables, killHeld, nodeState, ownershipViolations, pidOf, status, waitSettled } from '../helpers/recovery.js';
import { ctdbng } from '../helpers/cluster.js';

const fx = useCluster('rec-no-quorum', { portBase: 15_400, tunables: fastTunables });
const dbName = 'no-quorum.tdb';

test('with 2 of 3 dbds killed (supervisors paused) the survivor serves no record and status says "no quorum"; service returns when one comes back', async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const key = keyWithLmaster('nq', 0, [0, 1, 2]);
  await ctdbngOk(fx, 0, ['writekey', dbName, key, 'v1']);
  const resume1 = killHeld(fx, 1, ['dbd']);
  const resume2 = killHeld(fx, 2, ['dbd']);
  await expect.poll(async () => (await status(fx, 0)).quorum, { timeout: 20_000 }).toBe(false);
  const text = await ctdbng(fx.nodeBase(0), ['status']);
  expect(text.stdout).toMatch(/^no quorum/m);
  // Once its lease (SharedAccessLease after the last acked probe) has run out, no record is
  // served: a read waits, and the CLI gives up after its time limit.
  await new Promise((r) => setTimeout(r, fastTunables['SharedAccessLease']! + 200));
  const read = await ctdbng(fx.nodeBase(0), ['-T', '2', 'readkey', dbName, key]);
  expect(read.code, read.stdout).toBe(1);
  expect(read.stderr).toMatch(/time/i);
  resume1();
  await waitSettled(fx, [0, 1], [0, 1], 40_000);
  expect((await status(fx, 0)).quorum).toBe(true);
  expect((await ctdbngOk(fx, 0, ['readkey', dbName, key])).trim()).toBe('Data: size:2 ptr:[v1]');
  resume2();
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
});

test('a dbd restarted within a second while lmaster of a key another node masters: no record has two dmasters, and it serves nothing until a recovery took it in', async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  const key = keyWithLmaster('restart-lm', 1, [0, 1, 2]);
  await ctdbngOk(fx, 2, ['writekey', dbName, key, 'mastered-on-2']);
  const before = await nodeState(fx, 1);
  process.kill(pidOf(fx, 1, 'dbd'), 'SIGKILL');
  // The supervisor restarts it within a second; before any recovery it is not taken in.
  const restarted = await (async () => {
    for (let i = 0; i < 400; i++) {
      const s = await nodeState(fx, 1, 500);
      if (s !== undefined && s.incarnation !== before?.incarnation) return s;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('node 1 dbd did not come back');
  })();
  if (!restarted.joined) expect(restarted.frozen).toBe(true);
  // Clients on nodes 0 and 2 go for the key while node 1 is being taken in again.
  const clients = await Promise.all([0, 2].map(async (p) => (await fx.client(p)).attach(dbName)));
  await Promise.all(clients.map((db, i) => db.withLock(key, (rec) => rec.store(`from-${i === 0 ? 0 : 2}`))));
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 40_000);
  expect(await ownershipViolations(fx, [0, 1, 2], dbName)).toEqual([]);
  const copies = await Promise.all([0, 1, 2].map((p) => cattdb(fx, p, dbName)));
  const owners = copies.flatMap((c, p) => (c.get(key)?.dmaster === p ? [p] : []));
  expect(owners).toHaveLength(1);
});
