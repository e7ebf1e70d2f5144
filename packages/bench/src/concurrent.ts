// concurrent: 8 ZeroMQ clients (separate connections) on node 0, each looping fetch_lock+store+
// unlock on its own key: the total rate of one dbd. Run as 1 process x 8 connections and as
// 2 processes x 4 connections (so that the client process is not what limits the rate).
import { connect, type Db } from '@ctdbng/client';
import { commandLine, keysWithLmaster, lockStoreUnlock, portBases, secondsSince, timedLoop, valueBuffer, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { opsPerSec, summarize } from './stats.js';
import { runWorkers } from './worker.js';

export type Layout = '1x8' | '2x4';

export interface ConcurrentOptions {
  /** Measured operations per connection. */
  ops: number;
  warmup: number;
  connections: number;
  layouts: Layout[];
  portBase?: number;
}

interface LayoutResult { layout: string; rate: number; p50Us: number; p99Us: number; ops: number }

export async function concurrentBench(o: CommonOptions, co: ConcurrentOptions): Promise<BenchResult> {
  const portBase = co.portBase ?? portBases.concurrent;
  const args = ['concurrent', '--ops', String(co.ops), '--warmup', String(co.warmup), '--connections', String(co.connections), '--layout', co.layouts.length === 2 ? 'both' : co.layouts[0]!, '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  const n = co.connections;
  o.log(`# concurrent: ${n} ZeroMQ connections on node 0, distinct keys, ${co.ops} ops each; layouts ${co.layouts.join(', ')}`);
  const results: LayoutResult[] = [];
  const notes: string[] = [];
  let oneRate = Number.NaN;
  await withCluster(o, 'concurrent', portBase, async (cluster) => {
    const base = cluster.nodeBase(0);
    const probe = await connect({ base, name: 'bench-concurrent-probe' });
    const vnnmap = await vnnmapOf(probe);
    await probe.attach('bench_concurrent.db');
    await probe.close();
    const keys = keysWithLmaster('conc', 0, vnnmap, 2 * n + 1);
    // One connection alone first, on the same cluster: the baseline of issue 12's "8 ≥ 5× one".
    const solo = await connect({ base, name: 'bench-conc-solo' });
    try {
      const db = await solo.attach('bench_concurrent.db');
      const v = valueBuffer();
      const l = await timedLoop(co.ops, co.warmup, (j) => lockStoreUnlock(db, keys[2 * n]!, v, j));
      oneRate = opsPerSec(co.ops, l.endNs - l.startNs);
      o.log(`  1 connection alone: ${Math.round(oneRate)} ops/s`);
    } finally {
      await solo.close();
    }
    for (const layout of co.layouts) {
      const layoutKeys = layout === '1x8' ? keys.slice(0, n) : keys.slice(n);
      if (layout === '1x8') {
        const clients = await Promise.all(layoutKeys.map((_, i) => connect({ base, name: `bench-conc-${i}` })));
        try {
          const dbs: Db[] = await Promise.all(clients.map((c) => c.attach('bench_concurrent.db')));
          await Promise.all(dbs.map(async (db, i) => {
            const v = valueBuffer();
            for (let j = 0; j < co.warmup; j++) await lockStoreUnlock(db, layoutKeys[i]!, v, j);
          }));
          const loops = await Promise.all(dbs.map((db, i) => {
            const v = valueBuffer();
            return timedLoop(co.ops, 0, (j) => lockStoreUnlock(db, layoutKeys[i]!, v, j));
          }));
          const start = loops.reduce((m, l) => (l.startNs < m ? l.startNs : m), loops[0]!.startNs);
          const end = loops.reduce((m, l) => (l.endNs > m ? l.endNs : m), loops[0]!.endNs);
          const s = summarize(loops.flatMap((l) => Array.from(l.samplesNs)));
          results.push({ layout: `1 process x ${n} connections`, rate: (n * co.ops * 1e9) / Number(end - start), p50Us: s.p50Us, p99Us: s.p99Us, ops: n * co.ops });
        } finally {
          await Promise.allSettled(clients.map((c) => c.close()));
        }
      } else {
        const half = Math.ceil(n / 2);
        const m = await runWorkers([layoutKeys.slice(0, half), layoutKeys.slice(half)].map((ks) => ({
          base, db: 'bench_concurrent.db', keys: ks, sharedAccess: false, ops: co.ops, warmup: co.warmup,
        })));
        const s = summarize(m.reports.flatMap((r) => r.samplesNs));
        results.push({ layout: `2 processes x ${half} connections`, rate: m.combinedOpsPerSec, p50Us: s.p50Us, p99Us: s.p99Us, ops: m.totalOps });
      }
      const r = results[results.length - 1]!;
      o.log(`  ${r.layout}: ${Math.round(r.rate)} ops/s`);
    }
  });
  const best = results.reduce((a, b) => (b.rate > a.rate ? b : a), results[0]!);
  const figures: Figure[] = [
    { id: 'concurrent.rate', label: `total rate, ${n} connections (best: ${best.layout})`, value: best.rate, unit: 'ops/s', target: { op: '>=', value: 20_000 }, headline: true },
    { id: 'concurrent.rate.one', label: '1 connection alone, same cluster', value: oneRate, unit: 'ops/s' },
    { id: 'concurrent.speedup', label: `${n} connections / 1 connection (total rates)`, value: best.rate / oneRate, unit: 'ratio', headline: true,
      target: { op: '>=', value: 5 } },
  ];
  for (const r of results) {
    figures.push(
      { label: `total rate, ${r.layout}`, value: r.rate, unit: 'ops/s' },
      { label: `p50 per op, ${r.layout}`, value: r.p50Us, unit: 'us' },
      { label: `p99 per op, ${r.layout}`, value: r.p99Us, unit: 'us' },
    );
  }
  if (results.length === 2) {
    const [a, b] = results as [LayoutResult, LayoutResult];
    notes.push(`2 processes / 1 process = ${(b.rate / a.rate).toFixed(2)}: ${b.rate > a.rate * 1.1 ? 'the single client process was a bottleneck' : 'the single client process was not the main bottleneck (dbd is)'}`);
  }
  return { bench: 'concurrent', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
