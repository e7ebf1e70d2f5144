// With the etcd cluster lock (`[cluster] cluster lock = etcd://…` on every node, startCluster's
// clusterLock): two leaders never hold the lock at once over a series of leader kills; killing etcd
// (SIGKILL) makes the leader step down and nobody leads or recovers (no split brain) until etcd is
// back, which restores service: a leader again, holding the lock, and writes work (DESIGN §5.1).
// A real etcd runs per file (`etcd` from etcd-server; skipped without it, strict in CI).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ctdbng, useCluster } from '../helpers/cluster.js';
import { fastTunables, metricValue, nodeStates, recoverdMetricsUrl, waitSettled } from '../helpers/recovery.js';
import { haveTools, systemTools } from '../helpers/system-tools.js';

const etcdPort = 13_950;
const etcdUrl = `http://127.0.0.1:${etcdPort}`;
const lockKey = '/ctdbng/lock';
const etcdDir = mkdtempSync(join(tmpdir(), 'ctdbng-it-etcd-'));
let etcd: ChildProcess | undefined;
let etcdLog = '';

async function etcdHealthy(): Promise<boolean> {
  try {
    const r = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await r.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

async function startEtcd(): Promise<void> {
  const peer = `http://127.0.0.1:${etcdPort + 1}`;
  const proc = spawn('etcd', ['--data-dir', join(etcdDir, 'data'), '--name', 't',
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `t=${peer}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => { etcdLog += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { etcdLog += d.toString(); });
  etcd = proc;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  for (;;) {
    if (await etcdHealthy()) return;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd exited: ${etcdLog.slice(-2000)}`);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
}

async function killEtcd(): Promise<void> {
  const proc = etcd;
  etcd = undefined;
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  proc.kill('SIGKILL');
  await exited;
}

describe.skipIf(!haveTools('test/recovery/etcd-lock', [systemTools.etcd]))('the etcd cluster lock', () => {
const fx = useCluster('rec-etcd-lock', {
  portBase: 13_900,
  tunables: { ...fastTunables, ClusterLockTimeout: 2000 },
  clusterLock: () => `etcd://127.0.0.1:${etcdPort}${lockKey}`,
  before: startEtcd,
  after: async () => {
    await killEtcd();
    rmSync(etcdDir, { recursive: true, force: true });
  },
});

/** The recoverd pid that holds the lock, per the holder value the etcd helper puts ("host pid N"). */
async function lockHolderPid(): Promise<number | undefined> {
  const r = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(lockKey).toString('base64') }) });
  const kvs = ((await r.json()) as { kvs?: { value: string }[] }).kvs ?? [];
  if (kvs.length === 0) return undefined;
  const m = / pid (\d+)$/.exec(Buffer.from(kvs[0]!.value, 'base64').toString());
  return m === null ? undefined : Number(m[1]);
}

function recoverdPid(pnn: number): number {
  return Number(readFileSync(join(fx.nodeBase(pnn), 'run', 'recoverd.pid'), 'utf8').trim());
}

interface LockEvent { pnn: number; time: number; what: 'held' | 'released' }

/** 'cluster lock held' and the ends of holding (lost, stepping down) from every node's recoverd log. */
function lockEvents(): LockEvent[] {
  const events: LockEvent[] = [];
  for (const pnn of [0, 1, 2]) {
    for (const line of readFileSync(join(fx.nodeBase(pnn), 'log', 'recoverd.log'), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as { time: number; msg: string };
      if (e.msg === 'cluster lock held') events.push({ pnn, time: e.time, what: 'held' });
      else if (e.msg === 'cluster lock lost or not taken' || e.msg === 'stepping down') events.push({ pnn, time: e.time, what: 'released' });
    }
  }
  return events;
}

/**
 * From the logs and the kill times: holding intervals per node never overlap. A node holds from
 * 'cluster lock held' until it logs a release or its recoverd is killed.
 */
function expectNoOverlap(kills: { pnn: number; time: number }[]): void {
  const events = [...lockEvents(), ...kills.map((k) => ({ ...k, what: 'released' as const }))].sort((a, b) => a.time - b.time);
  const holding = new Set<number>();
  for (const e of events) {
    if (e.what === 'released') holding.delete(e.pnn);
    else {
      expect([...holding].filter((p) => p !== e.pnn), `lock held by node ${e.pnn} at ${e.time} while others hold it`).toEqual([]);
      holding.add(e.pnn);
    }
  }
}

test('With the etcd cluster lock, two leaders never hold it at once over a series of leader kills, and the leader is the holder', async () => {
  const kills: { pnn: number; time: number }[] = [];
  for (let round = 0; round < 3; round++) {
    const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
    await expect.poll(lockHolderPid, { timeout: 10_000 }).toBe(recoverdPid(leader));
    const termBefore = Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0));
    kills.push({ pnn: leader, time: Date.now() });
    fx.cluster.kill(leader, 'recoverd');
    await expect.poll(async () => Math.max(...(await nodeStates(fx, [0, 1, 2])).map((s) => s?.highestTerm ?? 0)), { timeout: 30_000 })
      .toBeGreaterThan(termBefore);
  }
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  await expect.poll(lockHolderPid, { timeout: 10_000 }).toBe(recoverdPid(leader));
  expectNoOverlap(kills);
  expect(lockEvents().filter((e) => e.what === 'held').length).toBeGreaterThanOrEqual(4);
});

test('Killing etcd makes the leader step down and nobody leads or recovers until etcd is back, which restores service', async () => {
  const { leader } = await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  const recoveriesStarted = (): number => [0, 1, 2].reduce((n, p) =>
    n + readFileSync(join(fx.nodeBase(p), 'log', 'recoverd.log'), 'utf8').split('\n').filter((l) => l.includes('"recovery started"')).length, 0);
  const isLeader = (): Promise<number[]> => Promise.all([0, 1, 2].map((p) => metricValue(recoverdMetricsUrl(fx, p), 'ctdbng_recoverd_is_leader')));
  const elections = async (): Promise<number> => (await Promise.all([0, 1, 2].map((p) => metricValue(recoverdMetricsUrl(fx, p), 'ctdbng_recoverd_elections_total'))))
    .reduce((a, b) => a + b, 0);

  await killEtcd();
  // The leader's lock keepalive fails: it steps down.
  await expect.poll(async () => (await isLeader())[leader], { timeout: 20_000 }).toBe(0);
  const startedAfterStepDown = recoveriesStarted();
  const electionsAfterStepDown = await elections();
  // Elections go on, but no winner gets the lock: never two leaders; no recovery runs.
  const samples: number[][] = [];
  await expect.poll(async () => {
    samples.push(await isLeader());
    return elections();
  }, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(electionsAfterStepDown + 2);
  expect(samples.filter((s) => s.reduce((a, b) => a + b, 0) > 1), 'samples with two leaders').toEqual([]);
  expect(recoveriesStarted()).toBe(startedAfterStepDown);
  const states = await nodeStates(fx, [0, 1, 2]);
  // Frozen for writes or without a leader: no node names a leader that holds the lock.
  for (const s of states) expect(s?.leader === null || s?.frozen === true || (await isLeader())[s!.leader!] === 0, `node ${s?.pnn}`).toBe(true);

  await startEtcd();
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 60_000);
  // The lock holder named in etcd is the recoverd of whoever leads now (the leader can change
  // while the lease of the stepped-down leader, kept across etcd's restart, runs out).
  const holderIsLeader = async (): Promise<boolean> => {
    const states = await nodeStates(fx, [0, 1, 2]);
    const leader = states.find((s) => s?.leader !== null && s?.leader !== undefined)?.leader;
    return leader !== undefined && leader !== null && (await lockHolderPid()) === recoverdPid(leader);
  };
  await expect.poll(holderIsLeader, { timeout: 20_000 }).toBe(true);
  await ctdbng(fx.nodeBase(0), ['attach', 'etcd.tdb']);
  for (const p of [0, 1, 2]) {
    const w = await ctdbng(fx.nodeBase(p), ['writekey', 'etcd.tdb', `k${p}`, `v${p}`]);
    expect(w.code, w.stderr).toBe(0);
  }
  const r = await ctdbng(fx.nodeBase(1), ['--json', 'readkey', 'etcd.tdb', 'k2']);
  expect(JSON.parse(r.stdout)).toMatchObject({ found: true, data: 'v2' });
});
});
