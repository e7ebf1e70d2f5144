// Partition 2 | 1 in a 3-node cluster (node cut off with the fault switch, run/faults.json, in both
// directions): the lone node never becomes leader and, inactive, refuses writes with a typed error
// (ERR_INACTIVE / InactiveError); the majority side keeps working; after healing there is one
// leader and one generation on all three (DESIGN §5.1).
import { expect, test } from 'vitest';
import { InactiveError } from '@ctdbng/client';
import { ctdbng, useCluster } from '../helpers/cluster.js';
import { ctdbngOk, cutOff, fastTunables, healAll, metricValue, nodeState, recoverdMetricsUrl, status, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-partition', { portBase: 13_700, tunables: fastTunables });
const dbName = 'partition.tdb';

test('Partition 2 | 1 in a 3-node cluster: the lone node never leads and refuses writes with ERR_INACTIVE, the majority keeps working, and after healing all three share one leader and one generation', async () => {
  fx.defer(() => healAll(fx));
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  // The lone node is one that does not lead now, so "never becomes leader" is about the cut.
  const lone = leader === 2 ? 1 : 2;
  const majority = [0, 1, 2].filter((p) => p !== lone);
  const dbs = await Promise.all([0, 1, 2].map(async (p) => (await fx.client(p, { timeoutMs: 30_000 })).attach(dbName)));

  cutOff(fx, lone);
  // Sample the lone node's recoverd for as long as the cut lasts: it must never be leader.
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await metricValue(recoverdMetricsUrl(fx, lone), 'ctdbng_recoverd_is_leader'));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const { generation } = await waitSettled(fx, majority, majority);
  await expect.poll(async () => (await nodeState(fx, lone))?.inactive, { timeout: 15_000 }).toBe(true);
  const loneStatus = await status(fx, lone);
  expect(loneStatus.leader === null || loneStatus.nodes.find((n) => n.pnn === lone)!.flags.includes('INACTIVE'),
    `lone node's status: ${JSON.stringify(loneStatus)}`).toBe(true);

  // The lone node refuses writes, typed: the client gets InactiveError, the CLI names the code.
  await expect(dbs[lone]!.withLock('on-lone', (rec) => rec.store('x'))).rejects.toBeInstanceOf(InactiveError);
  // (writekey attaches first; dbd waits for peers it still has a link to, so wait for the links.)
  await expect.poll(async () => (await nodeState(fx, lone))?.linksUp, { timeout: 15_000 }).toEqual([]);
  const w = await ctdbng(fx.nodeBase(lone), ['writekey', dbName, 'on-lone', 'x']);
  expect(w.code).toBe(1);
  expect(w.stderr).toMatch(/ERR_INACTIVE/);

  // The majority side keeps working.
  for (const p of majority) await dbs[p]!.withLock(`on-${p}`, (rec) => rec.store(`written-on-${p}`));
  for (const p of majority) expect((await dbs[majority[0]!]!.fetch(`on-${p}`)).data.toString()).toBe(`written-on-${p}`);
  expect(samples.length).toBeGreaterThan(0);

  sampling = false;
  await sampler;
  healAll(fx);
  const after = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  expect(after.generation).not.toBe(generation);
  expect(samples.every((v) => v === 0), `lone node's is_leader samples: ${samples.join(',')}`).toBe(true);
  // One leader: exactly one recoverd says so, and every node names it.
  await expect.poll(async () => {
    const isLeader = await Promise.all([0, 1, 2].map((p) => metricValue(recoverdMetricsUrl(fx, p), 'ctdbng_recoverd_is_leader')));
    return isLeader.reduce((a, b) => a + b, 0);
  }, { timeout: 10_000 }).toBe(1);
  for (const p of [0, 1, 2]) expect((await status(fx, p)).leader).toBe(after.leader);
  // The healed node serves records again, with the majority's writes.
  for (const p of majority) expect((await dbs[lone]!.fetch(`on-${p}`)).data.toString()).toBe(`written-on-${p}`);
  expect((await dbs[majority[0]!]!.fetch('on-lone')).found).toBe(false);
});
