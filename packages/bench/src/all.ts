// `all`: every benchmark in one run, floors first and CTDB last, with the counts below (`--quick`:
// small counts, a smoke test). Ports: each benchmark's default port base, moved by `--port-base`.
import { cliBench } from './cli.js';
import { portBaseLowest, portBases, type CommonOptions } from './common.js';
import { concurrentBench } from './concurrent.js';
import { floorsBench } from './floors.js';
import { idleBench } from './idle.js';
import { localBench } from './local.js';
import { migrateBench } from './migrate.js';
import { peerBench, type PeerOptions } from './peer.js';
import { recoveryBench } from './recovery.js';
import type { BenchResult, Figure } from './report.js';
import { startupBench } from './startup.js';
import { traverseBench } from './traverse.js';
import { vacuumLatencyBench } from './vacuum-latency.js';
import { vacuumBench, type VacuumVariant } from './vacuum.js';

export interface AllOptions {
  quick: boolean;
  /** Run CTDB's side (peer) too. */
  peer: boolean;
  big: boolean;
  peerDir: string;
  /** Moves every benchmark's port base by (this − 25400). */
  portBase?: number;
}

/** Runs one benchmark and returns its result, or a result saying why it failed. */
export type RunOne = (name: string, fn: (o: CommonOptions) => Promise<BenchResult>) => Promise<BenchResult>;

/** The counts of a full run and of --quick. */
export function allPlan(quick: boolean): {
  floors: Parameters<typeof floorsBench>[1]; ops: number; warmup: number; migrateOps: number; concurrentOps: number;
  cli: { n: number; loopKeys: number }; records: number; runs: number; vacuum: VacuumVariant[]; intervals: number[];
  tombstones: number; startRuns: number; startRuns16: number; idle: { settleSec: number; windowSec: number; windows: number };
} {
  return quick
    ? {
      floors: { ops: 2_000, migrationOps: 300, warmup: 100, nodeRuns: 5 }, ops: 2_000, warmup: 200, migrateOps: 300, concurrentOps: 250,
      cli: { n: 3, loopKeys: 20 }, records: 10_000, runs: 2, vacuum: [{ records: 2_000, deletes: 100 }], intervals: [10, 1],
      tombstones: 5_000, startRuns: 1, startRuns16: 1, idle: { settleSec: 1, windowSec: 2, windows: 2 },
    }
    : {
      floors: { ops: 20_000, migrationOps: 5_000, warmup: 1_000, nodeRuns: 20 }, ops: 20_000, warmup: 1_000, migrateOps: 5_000, concurrentOps: 2_500,
      cli: { n: 20, loopKeys: 300 }, records: 100_000, runs: 3, vacuum: [{ records: 100_000, deletes: 5_000 }, { records: 10_000, deletes: 1_000, runs: 3 }],
      intervals: [10, 1], tombstones: 50_000, startRuns: 5, startRuns16: 3, idle: { settleSec: 5, windowSec: 10, windows: 3 },
    };
}

export async function runAll(a: AllOptions, runOne: RunOne): Promise<BenchResult[]> {
  const p = allPlan(a.quick);
  const shift = a.portBase === undefined ? 0 : a.portBase - portBaseLowest;
  const pb = (name: keyof typeof portBases): number => portBases[name] + shift;
  const results: BenchResult[] = [];
  const run = async (name: string, fn: (o: CommonOptions) => Promise<BenchResult>): Promise<BenchResult> => {
    const r = await runOne(name, fn);
    results.push(r);
    return r;
  };
  await run('floors', (o) => floorsBench(o, { ...p.floors, portBase: pb('floors') }));
  await run('local-shared', (o) => localBench(o, 'shared', { ops: p.ops, warmup: p.warmup, procs: 2, portBase: pb('local-shared') }));
  await run('local-zmq', (o) => localBench(o, 'zmq', { ops: p.ops, warmup: p.warmup, procs: 0, portBase: pb('local-zmq') }));
  await run('migrate', (o) => migrateBench(o, { ops: p.migrateOps, warmup: Math.ceil(p.migrateOps / 10), portBase: pb('migrate') }));
  await run('concurrent', (o) => concurrentBench(o, { ops: p.concurrentOps, warmup: Math.ceil(p.concurrentOps / 10), connections: 8, layouts: ['1x8', '2x4'], portBase: pb('concurrent') }));
  await run('cli', (o) => cliBench(o, { ...p.cli, portBase: pb('cli') }));
  await run('traverse', (o) => traverseBench(o, { records: p.records, window: 256, runs: p.runs, cli: true, portBase: pb('traverse') }));
  const rec = await run('recovery', (o) => recoveryBench(o, { records: p.records, window: 256, runs: p.runs, portBase: pb('recovery') }));
  if (a.big) {
    const bigRecords = p.records * 10;
    const big = await run('recovery', (o) => recoveryBench(o, { records: bigRecords, window: 256, runs: a.quick ? 1 : 3, portBase: pb('recovery') }));
    const growth = growthFigure(rec, big, p.records, bigRecords);
    if (growth !== undefined) big.figures.push(growth);
  }
  await run('vacuum', (o) => vacuumBench(o, { variants: p.vacuum, intervals: p.intervals, window: 256, deleteWindow: 64, timeoutSec: 300, portBase: pb('vacuum') }));
  await run('vacuum-latency', (o) => vacuumLatencyBench(o, {
    tombstones: p.tombstones, ops: a.quick ? 1_000 : 5_000, warmup: a.quick ? 100 : 500, paths: ['zmq', 'shared'], pause: true, window: 256, timeoutSec: 300, portBase: pb('vacuum-latency'),
  }));
  await run('startup', (o) => startupBench(o, { runs: p.startRuns, nodes: 3, portBase: pb('startup') }));
  await run('idle', (o) => idleBench(o, { nodes: 3, ...p.idle, portBase: pb('idle') }));
  await run('startup-16', (o) => startupBench(o, { runs: p.startRuns16, nodes: 16, portBase: pb('startup-16') }));
  await run('idle-16', (o) => idleBench(o, { nodes: 16, ...p.idle, portBase: pb('idle-16') }));
  if (a.peer) await run('peer', (o) => peerBench(o, peerPlan(a, p)));
  return results;
}

function peerPlan(a: AllOptions, p: ReturnType<typeof allPlan>): PeerOptions {
  return {
    peerDir: a.peerDir, startRuns: a.quick ? 1 : 3, n: p.cli.n, loopKeys: p.cli.loopKeys, catdbRuns: p.runs,
    populate: { records: p.records, recoveries: p.runs }, vacuum: { variants: p.vacuum, intervals: p.intervals }, idle: p.idle, sixteen: true,
  };
}

/** issue 12: 1,000,000 records in ≤ 10× the 100,000 time, from the two recovery results of this run. */
export function growthFigure(small: BenchResult, big: BenchResult, smallRecords: number, bigRecords: number): Figure | undefined {
  const a = small.figures.find((f) => f.id === `recovery.duration:${smallRecords}`);
  const b = big.figures.find((f) => f.id === `recovery.duration:${bigRecords}`);
  if (a === undefined || b === undefined) return undefined;
  return {
    id: `recovery.growth:${bigRecords}/${smallRecords}`, label: `recovery of ${bigRecords.toLocaleString('en-US')} records / of ${smallRecords.toLocaleString('en-US')} (same run)`,
    value: b.value / a.value, unit: 'ratio', headline: true, target: { op: '<=', value: 10 },
  };
}
