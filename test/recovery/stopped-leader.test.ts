// A stopped leader does not run a recovery (another node takes over): it steps down, a different
// node becomes leader and recovers without it, and the stopped node's recoverd starts no recovery
// while stopped — neither its recoveries counter (metrics port + 2) nor its log ("recovery
// started") moves (DESIGN §5.2 "a stopped or banned node never recovers").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ctdbng, useCluster } from '../helpers/cluster.js';
import { ctdbngOk, fastTunables, metricValue, nodeState, recover, recoverdMetricsUrl, status, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-stopped-leader', { portBase: 13_800, tunables: fastTunables });

function recoveriesStartedInLog(pnn: number): number {
  return readFileSync(join(fx.nodeBase(pnn), 'log', 'recoverd.log'), 'utf8').split('\n').filter((l) => l.includes('"recovery started"')).length;
}

test('A stopped leader does not run a recovery: another node takes over and the vnnmap excludes the stopped one', async () => {
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const others = [0, 1, 2].filter((p) => p !== leader);
  const countBefore = await metricValue(recoverdMetricsUrl(fx, leader), 'ctdbng_recoverd_recoveries_total');
  const logBefore = recoveriesStartedInLog(leader);

  await ctdbngOk(fx, others[0]!, ['stop', '-n', String(leader)]);
  const taken = await waitSettled(fx, others, others);
  expect(taken.leader).not.toBe(leader);
  const stopped = await nodeState(fx, leader);
  expect(stopped).toMatchObject({ stopped: true, frozen: true });
  expect((await status(fx, others[1]!)).nodes.find((n) => n.pnn === leader)!.flags).toContain('STOPPED');

  // More reasons to recover while it is stopped: an explicit recovery, asked of the stopped node too.
  await recover(fx, others[1]!);
  await ctdbng(fx.nodeBase(leader), ['-T', '10', 'recover']);
  await waitSettled(fx, others, others);
  expect(await metricValue(recoverdMetricsUrl(fx, leader), 'ctdbng_recoverd_recoveries_total')).toBe(countBefore);
  expect(recoveriesStartedInLog(leader)).toBe(logBefore);
  expect(await metricValue(recoverdMetricsUrl(fx, leader), 'ctdbng_recoverd_is_leader')).toBe(0);

  await ctdbngOk(fx, others[0]!, ['continue', '-n', String(leader)]);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
});
