// traverse: fill a volatile db with N records spread over the 3 nodes, then time cluster-wide
// traverses (client db.traverse(), counting records) and one `ctdbng catdb` CLI run.
//
// Fill: every record is created on its own lmaster (keys bucketed by lmasterOf), through the
// ZeroMQ path with `window` fetch_lock+store(unlock) chains in flight per node, all 3 nodes at
// once. Shared access cannot create records (a record absent from the file falls back to dbd),
// so this is the fastest honest way with the public client API; no record migrates.
import { connect, type Client } from '@ctdbng/client';
import { lmasterOf } from '@ctdbng/common';
import { binCommand, ctdbngBin } from './cli-paths.js';
import { busyRetries, fillNode } from './cluster-ops.js';
import { commandLine, portBases, secondsSince, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { timeSpawn } from './spawn-timing.js';
import { spreadOf } from './stats.js';

export interface TraverseOptions { records: number; window: number; runs: number; cli: boolean; portBase?: number }

export async function traverseBench(o: CommonOptions, to: TraverseOptions): Promise<BenchResult> {
  const portBase = to.portBase ?? portBases.traverse;
  const args = ['traverse', '--records', String(to.records), '--window', String(to.window), '--runs', String(to.runs), ...(to.cli ? [] : ['--no-cli']), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  busyRetries.count = 0;
  o.log(`# traverse: fill ${to.records} records (each on its lmaster, ${to.window} in flight per node), then traverse from node 0`);
  const figures: Figure[] = [];
  const notes: string[] = [];
  await withCluster(o, 'traverse', portBase, async (cluster) => {
    const clients: Client[] = [];
    try {
      for (let p = 0; p < cluster.nodes; p++) clients.push(await connect({ base: cluster.nodeBase(p), name: `bench-traverse-${p}`, timeoutMs: 120_000 }));
      const vnnmap = await vnnmapOf(clients[0]!);
      await clients[0]!.attach('bench_traverse.db');
      const dbs = await Promise.all(clients.map((c) => c.attach('bench_traverse.db')));
      const buckets: string[][] = clients.map(() => []);
      for (let i = 0; i < to.records; i++) {
        const k = `rec${String(i).padStart(8, '0')}`;
        buckets[lmasterOf(Buffer.from(k), vnnmap)]!.push(k);
      }
      const tf = process.hrtime.bigint();
      await Promise.all(dbs.map((db, p) => fillNode(db, buckets[p]!, to.window)));
      const fillSec = secondsSince(tf);
      figures.push({ label: `fill ${to.records} records (ZeroMQ, ${to.window} in flight per node, 3 nodes at once)`, value: to.records / fillSec, unit: 'records/s' });
      notes.push(`fill took ${fillSec.toFixed(2)} s; records per node (lmaster): ${buckets.map((b) => b.length).join(' / ')}`);
      o.log(`  filled in ${fillSec.toFixed(2)} s`);

      const times: number[] = [];
      for (let r = 0; r < to.runs; r++) {
        const tt = process.hrtime.bigint();
        let count = 0;
        for await (const _rec of dbs[0]!.traverse()) count++;
        const sec = secondsSince(tt);
        times.push(sec);
        o.log(`  traverse ${r + 1}: ${count} records in ${sec.toFixed(3)} s`);
        if (count !== to.records) notes.push(`WARNING: traverse ${r + 1} counted ${count} records, expected ${to.records}`);
      }
      const ts = spreadOf(times);
      figures.push(
        // The client library's traverse: CTDB has no figure of its library's traverse, so none here.
        { id: `traverse:${to.records}`, label: `cluster-wide traverse of ${to.records.toLocaleString('en-US')} records (client library, median of ${to.runs})`, value: ts.median, unit: 's', spread: ts, headline: true,
          ...(to.records === 100_000 ? { target: { op: '<=' as const, value: 0.5 } } : {}) },
        { id: `traverse.rate:${to.records}`, label: 'traverse rate', value: to.records / ts.median, unit: 'records/s' },
      );
      notes.push(`traverse runs: ${times.map((t) => t.toFixed(3)).join(', ')} s`);
      if (to.cli) figures.push(catdbFigure(cluster.nodeBase(1), to, notes));
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  });
  if (busyRetries.count > 0) notes.push(`dbd answered ERR_BUSY ${busyRetries.count} times during fill/deletes (retried)`);
  return { bench: 'traverse', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}

/**
 * `CTDBNG_BASE=node.1 ctdbng catdb DB >/dev/null`, `runs` times: the CLI row compared with `ctdb
 * catdb` of the same number of records from node 1 in the same run (peer.ts).
 */
function catdbFigure(nodeBase: string, to: TraverseOptions, notes: string[]): Figure {
  const bin = binCommand(ctdbngBin());
  const secs: number[] = [];
  for (let r = 0; r < to.runs; r++) {
    const run = timeSpawn(bin.cmd, [...bin.args, 'catdb', 'bench_traverse.db'], { env: { ...process.env, CTDBNG_BASE: nodeBase }, stdout: 'null' });
    if (run.status !== 0) {
      notes.push(`ctdbng catdb failed (${run.status}): ${run.stderr.trim()}`);
      break;
    }
    secs.push(run.ms / 1000);
  }
  const s = spreadOf(secs);
  return {
    id: `catdb.cli:${to.records}`, label: `CLI \`catdb\` of ${to.records.toLocaleString('en-US')} records from node 1, >/dev/null (spawn included)`, value: s.median, unit: 's', spread: s, headline: true,
    ctdbRef: `catdb.cli:${to.records}`,
    ...(to.records === 100_000 ? { ctdbConstant: { value: 1.19, source: 'FIGURES.md §c', what: '`ctdb catdb` >/dev/null from node 1, 1.16–1.23 s (3.45 s on 2026-12-05)' } } : {}),
  };
}
