// local-shared and local-zmq: fetch_lock + store + unlock of a record whose dmaster is node 0
// (its lmaster is node 0 too, so even its creation needs no other node), from a client on node 0.
import { connect, type Db } from '@ctdbng/client';
import { commandLine, keysWithLmaster, lockStoreUnlock, portBases, secondsSince, timedLoop, valueBuffer, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { floorIds } from './floors.js';
import { fmtUs, opsPerSec, spreadUsOf, summarize } from './stats.js';
import { runWorkers } from './worker.js';

export interface LocalOptions {
  ops: number;
  warmup: number;
  /** local-shared only: processes of the multi-process run (0: skip it). */
  procs: number;
  portBase?: number;
}

export async function localBench(o: CommonOptions, mode: 'shared' | 'zmq', lo: LocalOptions): Promise<BenchResult> {
  const bench = mode === 'shared' ? 'local-shared' : 'local-zmq';
  const portBase = lo.portBase ?? portBases[bench];
  const args = [bench, '--ops', String(lo.ops), '--warmup', String(lo.warmup), ...(mode === 'shared' ? ['--procs', String(lo.procs)] : []), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  o.log(`# ${bench}: ${lo.ops} x fetch_lock+store(unlock) of a local record (dmaster = lmaster = node 0), ${mode === 'shared' ? 'shared access' : 'ZeroMQ path, no shared access'}`);
  const figures: Figure[] = [];
  const notes: string[] = [];
  await withCluster(o, bench, portBase, async (cluster) => {
    const base = cluster.nodeBase(0);
    const client = await connect({ base, sharedAccess: mode === 'shared', name: `bench-${bench}` });
    let keys: string[];
    try {
      const vnnmap = await vnnmapOf(client);
      keys = keysWithLmaster('local', 0, vnnmap, 1 + lo.procs);
      const db = await client.attach('bench_local.db');
      const value = valueBuffer();
      const r = await timedLoop(lo.ops, lo.warmup, (i) => lockStoreUnlock(db, keys[0]!, value, i));
      const s = summarize(r.samplesNs);
      const rate = opsPerSec(lo.ops, r.endNs - r.startNs);
      const floor = mode === 'shared' ? floorIds.sqlite2tx : floorIds.zmqIpc2;
      figures.push(
        { id: `${bench}.p50`, label: `p50 fetch_lock+store+unlock, 1 process`, value: s.p50Us, unit: 'us', spread: spreadUsOf(s), headline: true, floorRef: `${floor}.p50`,
          // issue 12: shared access within 1.25× of two bare SQLite transactions, ZeroMQ within 1.15× of two bare round trips.
          target: { op: '<=', value: mode === 'shared' ? 1.25 : 1.15, on: 'floor' },
          ...(mode === 'shared' ? { ctdbConstant: { value: 1, source: 'FLOOR.md §2', what: 'fetch_loop_key, CTDB client library against tdb, ≈1 µs/op' } } : {}) },
        { id: `${bench}.p99`, label: 'p99, 1 process', value: s.p99Us, unit: 'us', floorRef: `${floor}.p99` },
        { id: `${bench}.rate`, label: 'rate, 1 process', value: rate, unit: 'ops/s', headline: mode === 'zmq',
          ...(mode === 'shared' ? { ctdbConstant: { value: 1_130_000, source: 'FLOOR.md §2', what: 'fetch_loop_key, 1 process' } } : {}) },
      );
      if (mode === 'shared') figures.push(await updateFigure(db, keys[0]!, lo, notes));
      notes.push(`1 process: ${r.shared} of ${lo.ops} measured locks via shared access; mean ${fmtUs(s.meanUs)}, min ${fmtUs(s.minUs)}, max ${fmtUs(s.maxUs)}`);
      if (mode === 'shared' && r.shared < lo.ops) notes.push('WARNING: some locks fell back to dbd (fence not held, file busy, ...): see the count above');
    } finally {
      await client.close();
    }
    if (mode === 'shared' && lo.procs > 0) {
      o.log(`  ${lo.procs} processes together, distinct keys, ${lo.ops} ops each`);
      const m = await runWorkers(Array.from({ length: lo.procs }, (_, i) => ({
        base, db: 'bench_local.db', keys: [keys[1 + i]!], sharedAccess: true, ops: lo.ops, warmup: lo.warmup,
      })));
      const all = summarize(m.reports.flatMap((r) => r.samplesNs));
      figures.push(
        { id: `${bench}.rate.procs`, label: `rate, ${lo.procs} processes together`, value: m.combinedOpsPerSec, unit: 'ops/s', target: { op: '>=', value: 100_000 }, headline: true,
          ctdbConstant: { value: 2_090_000, source: 'FLOOR.md §2', what: 'fetch_loop_key, 2 processes, distinct keys (2.09–2.20 M)' } },
        { label: `p50 while ${lo.procs} processes run`, value: all.p50Us, unit: 'us' },
        { label: `p99 while ${lo.procs} processes run`, value: all.p99Us, unit: 'us' },
      );
      notes.push(`${lo.procs} processes: per process ${m.reports.map((r) => Math.round(opsPerSec(r.ops, BigInt(r.endNs) - BigInt(r.startNs))).toLocaleString('en-US')).join(' + ')} ops/s; `
        + `${m.reports.reduce((a, r) => a + r.shared, 0)} of ${m.totalOps} locks via shared access`);
    }
  });
  return { bench, command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}

/** The one-transaction `db.update(key, fn)` of issue 12, when the client library has it. */
type UpdateFn = (key: string, fn: (data: Buffer) => Buffer) => Promise<unknown>;

/**
 * p50 of `db.update` (read, compute, store, unlock in one SQLite transaction) against the
 * one-transaction floor; n/a with a note while @ctdbng/client has no `update`.
 */
async function updateFigure(db: Db, key: string, lo: LocalOptions, notes: string[]): Promise<Figure> {
  const fig: Figure = {
    id: 'local-shared.update.p50', label: 'p50 db.update(key, fn): read+store+unlock in 1 transaction, 1 process', value: Number.NaN, unit: 'us', headline: true,
    floorRef: `${floorIds.sqlite1tx}.p50`, target: { op: '<=', value: 1.3, on: 'floor' },
  };
  const update = (db as unknown as { update?: UpdateFn }).update;
  if (typeof update !== 'function') {
    notes.push('db.update: n/a, @ctdbng/client has no db.update(key, fn) yet (issue 12)');
    return fig;
  }
  const value = valueBuffer();
  try {
    const r = await timedLoop(lo.ops, lo.warmup, async (i) => {
      value.writeDoubleLE(i, 0);
      await update.call(db, key, () => value);
      return 'shared';
    });
    const s = summarize(r.samplesNs);
    return { ...fig, value: s.p50Us, spread: spreadUsOf(s) };
  } catch (err) {
    notes.push(`db.update failed: ${err instanceof Error ? err.message : String(err)}`);
    return fig;
  }
}
