// A local cluster comes up with every node ready (the first recovery done), a killed daemon is restarted by its supervisor and the cluster
// agrees on one generation again, and down leaves no process behind (DESIGN §11).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, onTestFailed, test } from 'vitest';
import { clusterStatus, DAEMONS, startCluster, type Cluster } from '@ctdbng/cli';
import { tailLines } from '../src/cluster/readiness.js';

const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-cluster-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
/** Its own ports, so the test runs beside other clusters of the suite. */
const portBase = 16_379; // below the ephemeral port range (32768–60999), where a client socket could hold it

async function generations(cluster: Cluster): Promise<number[]> {
  return Promise.all([0, 1, 2].map(async (p) => {
    const c = await cluster.clientFor(p);
    try {
      const s = await c.getNodeState();
      return s.frozen ? -1 : s.generation;
    } finally {
      await c.close();
    }
  }));
}

test('cluster: up, kill dbd, restart and agree on a generation, down', { timeout: 60_000 }, async () => {
  await using cluster = await startCluster({ nodes: 3, base, portBase, fresh: true, tunables: { KeepaliveInterval: 2 } });
  onTestFailed(() => {
    for (const p of [0, 1, 2]) for (const d of DAEMONS) console.log(tailLines(join(cluster.nodeBase(p), 'log', `${d.name}.log`), 20).join('\n'));
  });
  const client = await cluster.clientFor(1);
  try {
    const v = await client.getVnnMap();
    expect(v.generation).toBe(cluster.generation);
    expect([...v.pnns].sort()).toEqual([0, 1, 2]);
    expect(await client.getTunable('KeepaliveInterval')).toBe(2);
    expect((await client.getNodeState()).leader).not.toBeNull();
  } finally {
    await client.close();
  }

  const dbdIndex = DAEMONS.findIndex((d) => d.name === 'dbd');
  const before = (await clusterStatus(base))[1]!.daemons[dbdIndex]!.pid;
  const killed = cluster.kill(1, 'dbd');
  expect(killed).toBe(before);
  await expect.poll(async () => {
    const s = (await clusterStatus(base))[1]!;
    return s.daemons[dbdIndex]!.alive && s.daemons[dbdIndex]!.pid !== killed && s.ping.ok;
  }, { timeout: 20_000, interval: 50 }).toBe(true);
  // A recovery brings the restarted dbd back into a new generation that every node shares.
  await expect.poll(async () => {
    const gs = await generations(cluster).catch(() => [-1]);
    const agreed = gs.every((g) => g > 0 && g === gs[0]);
    return agreed && gs[0] !== cluster.generation;
  }, { timeout: 20_000, interval: 50 }).toBe(true);

  await cluster.down();
  const after = await clusterStatus(base);
  expect(after.map((n) => [n.supervisor.alive, ...n.daemons.map((d) => d.alive)]).flat().some(Boolean)).toBe(false);
  expect(after).toHaveLength(3);
});
