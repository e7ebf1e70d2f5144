// vacuum: D deletes in a db of N records held by all 3 nodes, at default tunables: how long from
// the last delete until no node holds any deleted key (CTDB 4.17, FIGURES.md §c: 32.9 s for
// 5,000 deletes in 100,000 records, 12.5 s for 1,000 in 10,000).
//
// Setup as `recovery`: each record created on its lmaster, then one `ctdbng recover` so that
// every node holds every record (with MIGRATED_WITH_DATA, as CTDB's restoredb state). Then the
// first D keys are deleted through node 0 (fetch_lock + delete with unlock, `window` in flight;
// CTDB's run called `ctdb deletekey` on node 0, one at a time). From the last delete on, every
// node's vacuumd metrics are polled (cattdb of 100k records on 3 nodes is too heavy to poll):
// done when ctdbng_vacuum_pending_records{db} is 0 on every node and the nodes together have
// purged (or dropped) at least D items since the deletes began. Then it verifies once, with a
// local traverse of each node (records and tombstones), that no deleted key remains anywhere and
// that every node holds N − D records.
import { connect, type Client } from '@ctdbng/client';
import {
  benchKey, busyRetries, bucketByLmaster, deleteKeys, fillNode, localCopies, metricsAddress, metricSum, scrapeMetrics, sleep, spreadWithRecovery,
  type Sample,
} from './cluster-ops.js';
import { commandLine, portBases, secondsSince, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Comparison, Figure } from './report.js';

export interface VacuumVariant { records: number; deletes: number }
export interface VacuumOptions { variants: VacuumVariant[]; window: number; deleteWindow: number; timeoutSec: number; portBase?: number }

export const vacuumVariantsDefault: VacuumVariant[] = [{ records: 100_000, deletes: 5_000 }, { records: 10_000, deletes: 1_000 }];

/** CTDB 4.17, VacuumInterval 10 (default): purged everywhere, after the last / the first delete. */
const ctdbVacuum: Record<string, { last: Comparison; first: Comparison }> = {
  '100000/5000': {
    last: { value: 32.9, source: 'FIGURES.md §c', what: 'cattdb counts on every node, after the last deletekey' },
    first: { value: 80.5, source: 'FIGURES.md §c', what: 'after the first of 5,000 sequential `ctdb deletekey` (9.5 ms/key)' },
  },
  '10000/1000': {
    last: { value: 12.5, source: 'FIGURES.md §c', what: 'cattdb counts on every node, after the last deletekey' },
    first: { value: 19.6, source: 'FIGURES.md §c', what: 'after the first of 1,000 sequential `ctdb deletekey` (7.1 ms/key)' },
  },
};

const pollMs = 25;

interface Progress { pending: number[]; done: number }

function progressOf(scrapes: readonly Sample[][], base: readonly Sample[][], db: string): Progress {
  const pending = scrapes.map((s) => metricSum(s, 'ctdbng_vacuum_pending_records', { db }));
  let done = 0;
  scrapes.forEach((s, p) => {
    for (const m of ['ctdbng_vacuum_purged_total', 'ctdbng_vacuum_dropped_total']) done += metricSum(s, m, { db }) - metricSum(base[p]!, m, { db });
  });
  return { pending, done };
}

async function runVariant(o: CommonOptions, vo: VacuumOptions, v: VacuumVariant, portBase: number, figures: Figure[], notes: string[]): Promise<void> {
  const dbName = 'bench_vacuum.db';
  const tag = `${v.deletes.toLocaleString('en-US')} deletes in ${v.records.toLocaleString('en-US')} records`;
  const cmp = ctdbVacuum[`${v.records}/${v.deletes}`];
  o.log(`# vacuum: ${tag}, 3 nodes, default tunables`);
  await withCluster(o, `vacuum-${v.records}-${v.deletes}`, portBase, async (cluster) => {
    const clients: Client[] = [];
    try {
      for (let p = 0; p < cluster.nodes; p++) clients.push(await connect({ base: cluster.nodeBase(p), name: `bench-vacuum-${p}`, timeoutMs: 120_000 }));
      const vnnmap = await vnnmapOf(clients[0]!);
      await clients[0]!.attach(dbName);
      const dbs = await Promise.all(clients.map((c) => c.attach(dbName)));
      const keys = Array.from({ length: v.records }, (_, i) => benchKey(i));
      const buckets = bucketByLmaster(keys, vnnmap, cluster.nodes);
      const tf = process.hrtime.bigint();
      await Promise.all(dbs.map((db, p) => fillNode(db, buckets[p]!, vo.window)));
      const spread = await spreadWithRecovery(cluster, dbs, v.records);
      o.log(`  filled and spread in ${secondsSince(tf).toFixed(2)} s: every node holds ${spread.counts.join(' / ')} records`);

      const addrs = Array.from({ length: cluster.nodes }, (_, p) => metricsAddress(p, portBase, 'vacuumd'));
      const scrapeAll = (): Promise<Sample[][]> => Promise.all(addrs.map((a) => scrapeMetrics(a.host, a.port)));
      const base = await scrapeAll();
      const deleted = keys.slice(0, v.deletes);
      const leader = (await clients[0]!.getNodeState()).leader;

      const tFirst = process.hrtime.bigint();
      await deleteKeys(dbs[0]!, deleted, vo.deleteWindow);
      const tLast = process.hrtime.bigint();
      const deleteSec = Number(tLast - tFirst) / 1e9;
      o.log(`  ${v.deletes} deletes through node 0 in ${deleteSec.toFixed(2)} s (${vo.deleteWindow} in flight)`);

      let zeroSec: number | undefined;
      let last: Progress = { pending: [], done: 0 };
      let pollErrors = 0;
      const deadline = Date.now() + vo.timeoutSec * 1000;
      while (Date.now() < deadline) {
        let s: Sample[][];
        try {
          s = await scrapeAll();
        } catch {
          pollErrors++;
          await sleep(pollMs);
          continue;
        }
        last = progressOf(s, base, dbName);
        if (last.pending.every((x) => x === 0) && last.done >= v.deletes) {
          zeroSec = secondsSince(tLast);
          break;
        }
        await sleep(pollMs);
      }
      if (zeroSec === undefined) {
        notes.push(`WARNING (${tag}): not purged within ${vo.timeoutSec} s: pending per node ${last.pending.join(' / ')}, purged+dropped ${last.done} of ${v.deletes}`);
      } else {
        o.log(`  pending 0 on every node ${zeroSec.toFixed(3)} s after the last delete (purged+dropped ${last.done})`);
      }
      const sinceFirst = zeroSec === undefined ? Number.NaN : zeroSec + deleteSec;

      // The one check that counts: no deleted key left on any node, records or tombstones.
      const gone = new Set(deleted);
      const left = await Promise.all(dbs.map((db) => localCopies(db, gone)));
      const ok = left.every((l) => l.found.length === 0 && l.copies === v.records - v.deletes);
      const verify = `verification (local traverse of every node, tombstones included): ${ok ? 'PASSED' : 'FAILED'}: deleted keys left per node ${left.map((l) => l.found.length).join(' / ')}, copies per node ${left.map((l) => l.copies).join(' / ')} (expected ${v.records - v.deletes})`;
      o.log(`  ${verify}`);

      const main = v.records === 100_000 && v.deletes === 5_000;
      figures.push(
        { label: `${tag}: purged from every node, after the last delete (vacuumd pending 0 everywhere)`, value: ok ? (zeroSec ?? Number.NaN) : Number.NaN, unit: 's', headline: true,
          ...(main ? { target: { op: '<=' as const, value: 2 } } : {}), ...(cmp !== undefined ? { ctdb: cmp.last } : {}) },
        { label: `${tag}: the same, after the first delete`, value: ok ? sinceFirst : Number.NaN, unit: 's', ...(cmp !== undefined ? { ctdb: cmp.first } : {}) },
        { label: `${tag}: delete loop through node 0 (${vo.deleteWindow} in flight)`, value: deleteSec, unit: 's' },
      );
      notes.push(`${tag}: ${verify}`);
      notes.push(`${tag}: leader node ${leader ?? '?'}; deletes ${(deleteSec * 1000 / v.deletes).toFixed(3)} ms/key; metrics polled every ${pollMs} ms${pollErrors > 0 ? ` (${pollErrors} failed scrapes)` : ''}`);
      if (!ok) notes.push(`WARNING (${tag}): the figure is reported as n/a because the verification failed`);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  });
}

export async function vacuumBench(o: CommonOptions, vo: VacuumOptions): Promise<BenchResult> {
  const portBase = vo.portBase ?? portBases.vacuum;
  const args = ['vacuum', ...vo.variants.flatMap((v) => ['--variant', `${v.records}/${v.deletes}`]), '--window', String(vo.window),
    '--delete-window', String(vo.deleteWindow), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  busyRetries.count = 0;
  const figures: Figure[] = [];
  const notes: string[] = ['default tunables (VacuumInterval 1 s, VacuumBatchSize 1000; CTDB\'s runs used its default VacuumInterval 10)'];
  for (const v of vo.variants) await runVariant(o, vo, v, portBase, figures, notes);
  if (busyRetries.count > 0) notes.push(`dbd answered ERR_BUSY ${busyRetries.count} times during fill/deletes (retried)`);
  return { bench: 'vacuum', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
