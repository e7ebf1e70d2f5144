// A local cluster comes up with the static vnnmap on every node, a killed dbd is restarted by
// its supervisor with the same generation, and down leaves no process behind (DESIGN §11).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, onTestFailed, test } from 'vitest';
import { clusterStatus, startCluster } from '@ctdbng/cli';
import { tailLines } from '../src/cluster/readiness.js';

const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-cluster-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
/** Its own ports, so the test runs beside other clusters of the suite. */
const portBase = 34_379;

test('cluster: up, kill dbd, restart with the same generation, down', { timeout: 60_000 }, async () => {
  await using cluster = await startCluster({ nodes: 3, base, portBase, fresh: true, tunables: { KeepaliveInterval: 2 } });
  onTestFailed(() => {
    for (const p of [0, 1, 2]) console.log(tailLines(join(cluster.nodeBase(p), 'log', 'dbd.log'), 20).join('\n'));
  });
  const client = await cluster.clientFor(1);
  try {
    expect(await client.getVnnMap()).toEqual({ generation: cluster.generation, pnns: [0, 1, 2] });
    expect(await client.getTunable('KeepaliveInterval')).toBe(2);
  } finally {
    await client.close();
  }

  const before = (await clusterStatus(base))[1]!.daemons[0]!.pid;
  const killed = cluster.kill(1, 'dbd');
  expect(killed).toBe(before);
  await expect.poll(async () => {
    const s = (await clusterStatus(base))[1]!;
    return s.daemons[0]!.alive && s.daemons[0]!.pid !== killed && s.ping.ok;
  }, { timeout: 20_000, interval: 50 }).toBe(true);
  await expect.poll(async () => {
    const c = await cluster.clientFor(1);
    try {
      return (await c.getVnnMap()).generation;
    } finally {
      await c.close();
    }
  }, { timeout: 20_000, interval: 50 }).toBe(cluster.generation);

  await cluster.down();
  const after = await clusterStatus(base);
  expect(after.map((n) => [n.supervisor.alive, ...n.daemons.map((d) => d.alive)])).toEqual([[false, false], [false, false], [false, false]]);
});
