// recovery: a volatile db of N records held by all 3 nodes, then K timed recoveries.
//
// Fill: each record is created on its own lmaster (as `traverse` does), then one `ctdbng recover`
// pushes the merged db to every node, so every node holds every record (checked with a local
// traverse on each node): the state CTDB's FIGURES.md §c measured after `restoredb`. Each timed
// recovery then pulls 3 × N records and pushes N to each node.
//
// Per run: `ctdbng --json recover` on node 0 (wall time, spawn to exit, and its `durationMs`),
// then the recovery's own duration as recoverd measured it: dbd's lastRecoveryMs on the leader
// (what `ctdbng uptime --json` shows as lastRecoveryDurationMs), cross-checked with the leader
// recoverd's histogram (ctdbng_recoverd_recovery_duration_seconds: the _sum delta of this run).
import { connect, type Client } from '@ctdbng/client';
import {
  benchKey, busyRetries, bucketByLmaster, ctdbngJson, fillNode, metricsAddress, metricSum, scrapeMetrics, sleep, spreadWithRecovery,
} from './cluster-ops.js';
import { commandLine, portBases, secondsSince, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Constant, Figure } from './report.js';
import { median, spreadOf } from './stats.js';

export interface RecoveryOptions { records: number; window: number; runs: number; portBase?: number }

/** CTDB 4.17's "Duration of last recovery/failover" (FIGURES.md §c), by db size. */
const ctdbRecovery: Record<number, Constant> = {
  10_000: { value: 0.092, source: 'FIGURES.md §c', what: 'uptime "Duration of last recovery", median of 0.083/0.092/0.102 s' },
  100_000: { value: 0.418, source: 'FIGURES.md §c', what: 'uptime "Duration of last recovery", median of 0.443/0.418/0.388 s (1.01–1.13 s on 2026-12-05)' },
};

const histogram = 'ctdbng_recoverd_recovery_duration_seconds';

interface RecoveryRun { wallSec: number; cliMs: number; generation: number; lastRecoveryMs: number; histogramSec: number | undefined }

export async function recoveryBench(o: CommonOptions, ro: RecoveryOptions): Promise<BenchResult> {
  const portBase = ro.portBase ?? portBases.recovery;
  const args = ['recovery', '--records', String(ro.records), '--window', String(ro.window), '--runs', String(ro.runs), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  busyRetries.count = 0;
  o.log(`# recovery: ${ro.records} records held by all 3 nodes, ${ro.runs} timed \`ctdbng recover\``);
  const figures: Figure[] = [];
  const notes: string[] = [];
  const dbName = 'bench_recovery.db';
  await withCluster(o, `recovery-${ro.records}`, portBase, async (cluster) => {
    const clients: Client[] = [];
    try {
      for (let p = 0; p < cluster.nodes; p++) clients.push(await connect({ base: cluster.nodeBase(p), name: `bench-recovery-${p}`, timeoutMs: 120_000 }));
      const vnnmap = await vnnmapOf(clients[0]!);
      await clients[0]!.attach(dbName);
      const dbs = await Promise.all(clients.map((c) => c.attach(dbName)));
      const buckets = bucketByLmaster(Array.from({ length: ro.records }, (_, i) => benchKey(i)), vnnmap, cluster.nodes);
      const tf = process.hrtime.bigint();
      await Promise.all(dbs.map((db, p) => fillNode(db, buckets[p]!, ro.window)));
      const fillSec = secondsSince(tf);
      o.log(`  filled in ${fillSec.toFixed(2)} s (per lmaster: ${buckets.map((b) => b.length).join(' / ')})`);
      const spread = await spreadWithRecovery(cluster, dbs, ro.records);
      o.log(`  spread with one recover in ${spread.sec.toFixed(2)} s: every node holds ${spread.counts.join(' / ')} records`);
      notes.push(`fill ${fillSec.toFixed(2)} s (${Math.round(ro.records / fillSec).toLocaleString('en-US')} records/s, each on its lmaster); one \`recover\` to spread (${spread.sec.toFixed(2)} s); local copies per node before the timed runs: ${spread.counts.join(' / ')}`);

      const leader = (await clients[0]!.getNodeState()).leader;
      if (leader === null) throw new Error('no recovery leader known');
      const leaderClient = clients[leader]!;
      const ma = metricsAddress(leader, portBase, 'recoverd');
      const runs: RecoveryRun[] = [];
      for (let r = 0; r < ro.runs; r++) {
        const before = await scrapeMetrics(ma.host, ma.port).catch(() => undefined);
        const prevMs = (await leaderClient.getNodeState()).lastRecoveryMs;
        const { sec, json } = await ctdbngJson<{ generation: number; durationMs: number }>(cluster.nodeBase(0), ['recover']);
        // recoverd records the duration, then tells dbd (lastRecoveryMs): wait for both to show.
        let histogramSec: number | undefined;
        let lastRecoveryMs = prevMs;
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          const after = before === undefined ? undefined : await scrapeMetrics(ma.host, ma.port).catch(() => undefined);
          if (before !== undefined && after !== undefined && metricSum(after, `${histogram}_count`) > metricSum(before, `${histogram}_count`)) {
            histogramSec = metricSum(after, `${histogram}_sum`) - metricSum(before, `${histogram}_sum`);
          }
          lastRecoveryMs = (await leaderClient.getNodeState()).lastRecoveryMs;
          const agrees = histogramSec === undefined ? lastRecoveryMs !== prevMs : Math.abs(lastRecoveryMs - histogramSec * 1000) <= 1.5;
          if (agrees && (before === undefined || histogramSec !== undefined)) break;
          await sleep(20);
        }
        runs.push({ wallSec: sec, cliMs: json.durationMs, generation: json.generation, lastRecoveryMs, histogramSec });
        o.log(`  recover ${r + 1}: generation ${json.generation}, recovery ${lastRecoveryMs} ms (recoverd histogram ${histogramSec === undefined ? 'n/a' : `${(histogramSec * 1000).toFixed(1)} ms`}), \`ctdbng recover\` ${sec.toFixed(3)} s wall, its durationMs ${json.durationMs}`);
      }
      const dur = spreadOf(runs.map((x) => x.lastRecoveryMs / 1000));
      const wall = spreadOf(runs.map((x) => x.wallSec));
      const big = ro.records >= 1_000_000;
      figures.push(
        { id: `recovery.duration:${ro.records}`, label: `recovery of ${ro.records.toLocaleString('en-US')} records held by 3 nodes (lastRecoveryDurationMs, median of ${ro.runs})`, value: dur.median, unit: 's', spread: dur, headline: true,
          ctdbRef: `recovery.duration:${ro.records}`,
          // issue 12: 100,000 records in ≤ 0.5 × CTDB's time in the same run.
          ...(ro.records === 100_000 ? { target: { op: '<=' as const, value: 0.5, on: 'ctdb' as const } } : {}),
          ...(ctdbRecovery[ro.records] !== undefined ? { ctdbConstant: ctdbRecovery[ro.records]! } : {}) },
        { id: `recovery.rate:${ro.records}`, label: 'recovery rate (records in the db / median duration)', value: ro.records / dur.median, unit: 'records/s', headline: !big },
        { id: `recovery.cli:${ro.records}`, label: '`ctdbng recover` CLI wall time (spawn to exit)', value: wall.median, unit: 's', spread: wall, ctdbRef: `recovery.cli:${ro.records}`,
          ctdbConstant: { value: 2.0, source: 'FIGURES.md §c', what: '`ctdb recover` polls once a second: always ~2 s' } },
      );
      const hs = runs.map((x) => x.histogramSec).filter((x): x is number => x !== undefined);
      if (hs.length > 0) figures.push({ label: 'the same from recoverd\'s histogram (median of the _sum deltas)', value: median(hs), unit: 's' });
      notes.push(`runs (lastRecoveryDurationMs): ${runs.map((x) => x.lastRecoveryMs).join(', ')} ms; \`recover\` wall: ${runs.map((x) => x.wallSec.toFixed(3)).join(', ')} s; its durationMs: ${runs.map((x) => x.cliMs).join(', ')}`);
      notes.push(`leader: node ${leader}; each recovery pulls ${ro.records} records from each of the 3 nodes and pushes ${ro.records} to each`);
      if (hs.length < runs.length) notes.push(`WARNING: recoverd's histogram did not show ${runs.length - hs.length} of the runs (metrics on ${ma.host}:${ma.port})`);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  });
  if (busyRetries.count > 0) notes.push(`dbd answered ERR_BUSY ${busyRetries.count} times during fill/deletes (retried)`);
  return { bench: ro.records === 100_000 ? 'recovery' : `recovery (${ro.records.toLocaleString('en-US')})`, command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
