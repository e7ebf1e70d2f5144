// `floors`: what the hardware and the libraries give before any ctdb-ng code runs, measured on this
// machine in this run, so that every per-operation row can be divided by its floor:
//   (a) bare better-sqlite3: lock+store+unlock as two transactions, and read+update as one;
//   (b) bare zeromq.js DEALER→ROUTER echo: one and two round trips, loopback tcp and ipc;
//   (c) bare `node -e ''` start (spawn to exit);
//   (d) a bare prototype of a record migration's hops (floor-migration.ts).
import { join } from 'node:path';
import { commandLine, portBases, secondsSince, type CommonOptions } from './common.js';
import { migrationFloor } from './floor-migration.js';
import { sqliteFloor } from './floor-sqlite.js';
import { zmqFloor } from './floor-zmq.js';
import type { BenchResult, Figure } from './report.js';
import { nodeStartRuns } from './spawn-timing.js';
import { spreadOf, spreadUsOf, type LatencySummary } from './stats.js';

export interface FloorsOptions {
  /** Measured operations of the SQLite and ZeroMQ loops. */
  ops: number;
  /** Measured operations of the migration prototype. */
  migrationOps: number;
  warmup: number;
  /** `node -e ''` starts. */
  nodeRuns: number;
  /** Migration nodes bind 127.0.0.1..3:P, the echo 127.0.0.1:P+1. */
  portBase?: number;
}

/** The ids of the floors (rows refer to them with floorRef). */
export const floorIds = {
  sqlite2tx: 'floor.sqlite.2tx',
  sqlite1tx: 'floor.sqlite.1tx',
  zmqIpc1: 'floor.zmq.ipc.1rt',
  zmqIpc2: 'floor.zmq.ipc.2rt',
  zmqTcp1: 'floor.zmq.tcp.1rt',
  zmqTcp2: 'floor.zmq.tcp.2rt',
  nodeStart: 'floor.node-start',
  migration: 'floor.migration',
} as const;

/** `${id}.p50` and `${id}.p99` figures of one latency loop (µs; the p50 carries the samples' spread). */
export function latencyFigures(id: string, label: string, short: string, s: LatencySummary, headline: boolean): Figure[] {
  return [
    { id: `${id}.p50`, label: `${label}, p50`, short: `${short}, p50`, value: s.p50Us, unit: 'us', spread: spreadUsOf(s), headline },
    { id: `${id}.p99`, label: `${label}, p99`, short: `${short}, p99`, value: s.p99Us, unit: 'us' },
  ];
}

export async function floorsBench(o: CommonOptions, fo: FloorsOptions): Promise<BenchResult> {
  const portBase = fo.portBase ?? portBases.floors;
  const args = ['floors', '--ops', String(fo.ops), '--migration-ops', String(fo.migrationOps), '--warmup', String(fo.warmup),
    '--node-runs', String(fo.nodeRuns), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  const dir = join(o.baseDir, 'floors');
  const figures: Figure[] = [];
  const notes: string[] = [];

  o.log(`# floors: bare better-sqlite3, zeromq.js, node start and a migration prototype, on this machine now`);
  const sq = sqliteFloor({ ops: fo.ops, warmup: fo.warmup, dir });
  figures.push(
    ...latencyFigures(floorIds.sqlite2tx, 'SQLite lock+store+unlock as 2 transactions (bare better-sqlite3, WAL, synchronous=OFF)', 'bare SQLite, 2 transactions', sq.twoTransactions, true),
    ...latencyFigures(floorIds.sqlite1tx, 'SQLite read+update as 1 transaction', 'bare SQLite, 1 transaction', sq.oneTransaction, true),
  );
  o.log(`  sqlite: 2 transactions p50 ${sq.twoTransactions.p50Us.toFixed(1)} µs, 1 transaction p50 ${sq.oneTransaction.p50Us.toFixed(1)} µs`);

  const zq = await zmqFloor({ ops: fo.ops, warmup: fo.warmup, port: portBase + 1, dir });
  figures.push(
    ...latencyFigures(floorIds.zmqIpc1, 'zeromq.js DEALER→ROUTER echo, ipc, 1 round trip', 'bare zeromq.js, ipc, 1 round trip', zq.ipc.oneRoundTrip, false),
    ...latencyFigures(floorIds.zmqIpc2, 'zeromq.js echo, ipc, 2 round trips', 'bare zeromq.js, ipc, 2 round trips', zq.ipc.twoRoundTrips, true),
    ...latencyFigures(floorIds.zmqTcp1, 'zeromq.js echo, loopback tcp, 1 round trip', 'bare zeromq.js, tcp, 1 round trip', zq.tcp.oneRoundTrip, false),
    ...latencyFigures(floorIds.zmqTcp2, 'zeromq.js echo, loopback tcp, 2 round trips', 'bare zeromq.js, tcp, 2 round trips', zq.tcp.twoRoundTrips, true),
  );
  o.log(`  zeromq: ipc 1 round trip p50 ${zq.ipc.oneRoundTrip.p50Us.toFixed(1)} µs, 2: ${zq.ipc.twoRoundTrips.p50Us.toFixed(1)} µs; tcp 1: ${zq.tcp.oneRoundTrip.p50Us.toFixed(1)} µs, 2: ${zq.tcp.twoRoundTrips.p50Us.toFixed(1)} µs`);

  const starts = nodeStartRuns(fo.nodeRuns);
  const ns = spreadOf(starts);
  figures.push({ id: floorIds.nodeStart, label: "`node -e ''` start, spawn to exit (median)", short: "bare `node -e ''`", value: ns.median, unit: 'ms', spread: ns, headline: true });
  o.log(`  node -e '': median ${ns.median.toFixed(1)} ms (min ${ns.min.toFixed(1)}, max ${ns.max.toFixed(1)})`);

  const mg = await migrationFloor({ ops: fo.migrationOps, warmup: fo.warmup, port: portBase, dir });
  figures.push(...latencyFigures(floorIds.migration, 'migration prototype: 4 hops over zeromq tcp with a SQLite write each, plus the client\'s 2 round trips', 'migration prototype', mg.operation, true));
  o.log(`  migration prototype: p50 ${mg.operation.p50Us.toFixed(1)} µs; ${mg.migrated} of ${fo.migrationOps} measured operations moved the record`);
  if (mg.migrated !== fo.migrationOps) notes.push(`WARNING: only ${mg.migrated} of ${fo.migrationOps} prototype operations moved the record`);

  notes.push(`node ${process.version}; SQLite and ZeroMQ loops ${fo.ops} ops after ${fo.warmup} warm-up; migration prototype ${fo.migrationOps} ops; node start ${fo.nodeRuns} runs after 1 unmeasured`);
  notes.push('each floor carries min, median (p50) and max of its samples; the p99 figures are per-row floors for p99 rows');
  return { bench: 'floors', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
