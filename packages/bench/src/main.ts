#!/usr/bin/env node
// ctdbng-bench: benchmarks of ctdb-ng on a local 3-node cluster, and against a real CTDB 4.17.
// They print figures and assert nothing (README.md). Exit 0 when every benchmark ran, 1 when one
// failed, 2 on a usage error.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { cliStartBench } from './cli-start.js';
import { baseDirDefault, type CommonOptions } from './common.js';
import { concurrentBench, type Layout } from './concurrent.js';
import { localBench } from './local.js';
import { migrateBench } from './migrate.js';
import { peerBench, peerDirDefault } from './peer.js';
import { markdownTable, resultText, type BenchResult } from './report.js';
import { recoveryBench } from './recovery.js';
import { startupBench } from './startup.js';
import { traverseBench } from './traverse.js';
import { vacuumLatencyBench, type LatencyPath } from './vacuum-latency.js';
import { vacuumBench, vacuumVariantsDefault, type VacuumVariant } from './vacuum.js';
import { runWorker, type WorkerConfig } from './worker.js';

function int(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

function variant(v: string, prev: VacuumVariant[] | undefined): VacuumVariant[] {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const records = Number(m?.[1]);
  const deletes = Number(m?.[2]);
  if (m === null || records < 1 || deletes < 1 || deletes > records) throw new InvalidArgumentError('expected RECORDS/DELETES, e.g. 100000/5000');
  return [...(prev ?? []), { records, deletes }];
}

interface GlobalFlags { json: boolean; baseDir: string; logLevel: CommonOptions['logLevel']; portBase?: number }

function withCommon(c: Command): Command {
  return c
    .option('--json', 'print a JSON document of the results on stdout (the human output goes to stderr)', false)
    .option('--base-dir <dir>', 'parent directory of the benchmark clusters', baseDirDefault)
    .option('--port-base <P>', "port base of this benchmark's cluster (default: one per benchmark, 25400..25460)", int(1024, 65_000))
    .addOption(new Option('--log-level <level>', 'daemon log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'));
}

function commonOf(f: GlobalFlags): CommonOptions {
  const out = f.json ? process.stderr : process.stdout;
  return { baseDir: f.baseDir, logLevel: f.logLevel, log: (l) => out.write(`${l}\n`) };
}

let failed = false;

/** Runs one benchmark, prints its result (and JSON), and records a failure instead of throwing. */
async function runOne(f: GlobalFlags, name: string, fn: (o: CommonOptions) => Promise<BenchResult>): Promise<BenchResult> {
  const o = commonOf(f);
  let r: BenchResult;
  try {
    r = await fn(o);
  } catch (err) {
    failed = true;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ctdbng-bench: ${name} failed: ${err instanceof Error ? err.stack ?? msg : msg}\n`);
    r = { bench: name, command: '', figures: [], notes: [], skipped: `failed: ${msg.split('\n')[0]}` };
  }
  o.log(resultText(r));
  return r;
}

function emitJson(f: GlobalFlags, results: BenchResult[], extra: Record<string, unknown> = {}): void {
  if (!f.json) return;
  process.stdout.write(`${JSON.stringify({ tool: 'ctdbng-bench', date: new Date().toISOString(), node: process.version, ...extra, results }, null, 2)}\n`);
}

function program(): Command {
  const p = new Command('ctdbng-bench')
    .description('Benchmarks of ctdb-ng (each starts and tears down its own 3-node cluster on loopback). They print figures; they assert nothing.')
    .exitOverride();

  withCommon(p.command('local-shared'))
    .description('fetch_lock+store+unlock of a local record with shared access: p50/p99, ops/s from 1 and from N processes')
    .option('--ops <n>', 'measured operations (per process)', int(1), 20_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 1_000)
    .option('--procs <n>', 'processes of the multi-process run (0 skips it)', int(0, 16), 2)
    .action(async (f: GlobalFlags & { ops: number; warmup: number; procs: number }) => {
      emitJson(f, [await runOne(f, 'local-shared', (o) => localBench(o, 'shared', { ...f }))]);
    });

  withCommon(p.command('local-zmq'))
    .description('the same over the ZeroMQ path (no shared access): p50/p99, ops/s')
    .option('--ops <n>', 'measured operations', int(1), 20_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 1_000)
    .action(async (f: GlobalFlags & { ops: number; warmup: number }) => {
      emitJson(f, [await runOne(f, 'local-zmq', (o) => localBench(o, 'zmq', { ...f, procs: 0 }))]);
    });

  withCommon(p.command('migrate'))
    .description('a record that migrates on every op (clients on nodes 0 and 2 alternate, lmaster 1): p50/p99, ops/s')
    .option('--ops <n>', 'measured operations', int(1), 5_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 500)
    .action(async (f: GlobalFlags & { ops: number; warmup: number }) => {
      emitJson(f, [await runOne(f, 'migrate', (o) => migrateBench(o, f))]);
    });

  withCommon(p.command('concurrent'))
    .description('N concurrent ZeroMQ connections on node 0, distinct keys: total ops/s (1 process x N and 2 processes x N/2)')
    .option('--ops <n>', 'measured operations per connection', int(1), 2_500)
    .option('--warmup <n>', 'unmeasured operations per connection first', int(0), 200)
    .option('--connections <n>', 'connections', int(1, 256), 8)
    .addOption(new Option('--layout <l>', 'client processes').choices(['1x8', '2x4', 'both']).default('both'))
    .action(async (f: GlobalFlags & { ops: number; warmup: number; connections: number; layout: string }) => {
      const layouts: Layout[] = f.layout === 'both' ? ['1x8', '2x4'] : [f.layout as Layout];
      emitJson(f, [await runOne(f, 'concurrent', (o) => concurrentBench(o, { ...f, layouts }))]);
    });

  withCommon(p.command('traverse'))
    .description('fill a volatile db with N records over 3 nodes, then time a cluster-wide traverse')
    .option('--records <n>', 'records', int(1), 100_000)
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--runs <n>', 'traverses timed', int(1), 3)
    .option('--no-cli', 'skip the `ctdbng catdb` CLI timing')
    .action(async (f: GlobalFlags & { records: number; window: number; runs: number; cli: boolean }) => {
      emitJson(f, [await runOne(f, 'traverse', (o) => traverseBench(o, f))]);
    });

  withCommon(p.command('recovery'))
    .description('a volatile db of N records held by all 3 nodes: time K recoveries (recoverd\'s own duration and the `ctdbng recover` wall time)')
    .option('--records <n>', 'records (1000000 for the growth figure)', int(1), 100_000)
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--runs <n>', 'recoveries timed', int(1), 3)
    .action(async (f: GlobalFlags & { records: number; window: number; runs: number }) => {
      emitJson(f, [await runOne(f, 'recovery', (o) => recoveryBench(o, f))]);
    });

  withCommon(p.command('vacuum'))
    .description('D deletes in a db of N records held by all 3 nodes, default tunables: time from the last delete until purged from every node')
    .option('--variant <N/D>', 'records/deletes, repeatable (default: 100000/5000 and 10000/1000)', variant)
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--delete-window <n>', 'deletes in flight through node 0', int(1, 5_000), 64)
    .option('--timeout <s>', 'give up waiting for the purge after this many seconds', int(1), 300)
    .action(async (f: GlobalFlags & { variant?: VacuumVariant[]; window: number; deleteWindow: number; timeout: number }) => {
      emitJson(f, [await runOne(f, 'vacuum', (o) => vacuumBench(o, { ...f, variants: f.variant ?? vacuumVariantsDefault, timeoutSec: f.timeout }))]);
    });

  withCommon(p.command('vacuum-latency'))
    .description('fetch_lock+store+unlock p99 on node 0 while vacuumd purges T tombstones vs idle, and vacuumd memory')
    .option('--tombstones <n>', 'records deleted, then purged by vacuumd', int(1), 50_000)
    .option('--ops <n>', 'measured operations per path in the idle window', int(1), 5_000)
    .option('--warmup <n>', 'unmeasured operations per path first', int(0), 500)
    .addOption(new Option('--path <p>', 'client path(s) measured (both: alternate, one key each)').choices(['zmq', 'shared', 'both']).default('both'))
    .option('--no-pause', 'delete with vacuumd running and measure from the first delete (default: vacuumd is SIGSTOPped during the deletes)')
    .option('--window <n>', 'fill and deletes: operations in flight', int(1, 5_000), 256)
    .option('--timeout <s>', 'end the vacuum window after this many seconds at most', int(1), 300)
    .action(async (f: GlobalFlags & { tombstones: number; ops: number; warmup: number; path: string; pause: boolean; window: number; timeout: number }) => {
      const paths: LatencyPath[] = f.path === 'both' ? ['zmq', 'shared'] : [f.path as LatencyPath];
      emitJson(f, [await runOne(f, 'vacuum-latency', (o) => vacuumLatencyBench(o, { ...f, paths, timeoutSec: f.timeout }))]);
    });

  withCommon(p.command('startup'))
    .description('spawn `ctdbng-cluster up -n 3 --fresh` and time it until it returns (all nodes answering)')
    .option('--runs <n>', 'runs', int(1), 5)
    .action(async (f: GlobalFlags & { runs: number }) => {
      emitJson(f, [await runOne(f, 'startup', (o) => startupBench(o, f))]);
    });

  withCommon(p.command('cli-start')).description("time `ctdbng pnn` and the tools' --help next to bare `node -e ''`, in turn").option('--rounds <n>', 'runs of each', int(1), 30).action(async (f: GlobalFlags & { rounds: number }) => emitJson(f, [await runOne(f, 'cli-start', (o) => cliStartBench(o, f))]));

  withCommon(p.command('peer'))
    .description('side by side with a real CTDB 4.17 (needs `ctdb` installed and root): cluster start, CLI writekey/readkey latency')
    .option('--runs <n>', 'cluster starts of each', int(1), 3)
    .option('--n <n>', 'CLI calls per latency series', int(1), 20)
    .option('--peer-dir <dir>', 'the peer scripts (up.sh, down.sh, ctdbkeys.py)', peerDirDefault)
    .action(async (f: GlobalFlags & { runs: number; n: number; peerDir: string }) => {
      emitJson(f, [await runOne(f, 'peer', (o) => peerBench(o, f))]);
    });

  withCommon(p.command('all'))
    .description('every benchmark in sequence, then a markdown table (benchmark | figure | target | met? | vs CTDB)')
    .option('--quick', 'small counts (a smoke run; not for figures)', false)
    .option('--no-peer', 'skip the CTDB peer comparison')
    .option('--big', 'also the recovery of 1,000,000 records', false)
    .option('--peer-dir <dir>', 'the peer scripts', peerDirDefault)
    .action(async (f: GlobalFlags & { quick: boolean; peer: boolean; big: boolean; peerDir: string }) => {
      const q = f.quick;
      const g: GlobalFlags = { ...f, portBase: undefined };
      const t0 = process.hrtime.bigint();
      const results: BenchResult[] = [];
      results.push(await runOne(g, 'local-shared', (o) => localBench(o, 'shared', { ops: q ? 2_000 : 20_000, warmup: q ? 200 : 1_000, procs: 2 })));
      results.push(await runOne(g, 'local-zmq', (o) => localBench(o, 'zmq', { ops: q ? 2_000 : 20_000, warmup: q ? 200 : 1_000, procs: 0 })));
      results.push(await runOne(g, 'migrate', (o) => migrateBench(o, { ops: q ? 500 : 5_000, warmup: q ? 50 : 500 })));
      results.push(await runOne(g, 'concurrent', (o) => concurrentBench(o, { ops: q ? 250 : 2_500, warmup: q ? 20 : 200, connections: 8, layouts: ['1x8', '2x4'] })));
      results.push(await runOne(g, 'traverse', (o) => traverseBench(o, { records: q ? 10_000 : 100_000, window: 256, runs: 3, cli: true })));
      results.push(await runOne(g, 'recovery', (o) => recoveryBench(o, { records: q ? 10_000 : 100_000, window: 256, runs: 3 })));
      if (f.big) results.push(await runOne(g, 'recovery', (o) => recoveryBench(o, { records: q ? 100_000 : 1_000_000, window: 256, runs: 3 })));
      results.push(await runOne(g, 'vacuum', (o) => vacuumBench(o, {
        variants: q ? [{ records: 10_000, deletes: 500 }, { records: 2_000, deletes: 200 }] : vacuumVariantsDefault, window: 256, deleteWindow: 64, timeoutSec: 300,
      })));
      results.push(await runOne(g, 'vacuum-latency', (o) => vacuumLatencyBench(o, {
        tombstones: q ? 5_000 : 50_000, ops: q ? 1_000 : 5_000, warmup: q ? 100 : 500, paths: ['zmq', 'shared'], pause: true, window: 256, timeoutSec: 300,
      })));
      results.push(await runOne(g, 'startup', (o) => startupBench(o, { runs: q ? 2 : 5 })));
      if (f.peer) results.push(await runOne(g, 'peer', (o) => peerBench(o, { runs: q ? 1 : 3, n: q ? 5 : 20, peerDir: f.peerDir })));
      const o = commonOf(f);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      o.log(`# all: ${secs.toFixed(1)} s${q ? ' (--quick: small counts, not figures)' : ''}\n`);
      o.log(markdownTable(results));
      emitJson(f, results, { quick: q, elapsedSec: secs, table: markdownTable(results) });
    });

  p.command('_worker', { hidden: true })
    .argument('<config>', 'JSON WorkerConfig')
    .action(async (cfg: string) => { await runWorker(JSON.parse(cfg) as WorkerConfig); });
  return p;
}

async function main(): Promise<number> {
  try {
    await program().parseAsync(process.argv);
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    process.stderr.write(`ctdbng-bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code)); // no top-level await: bundled as CommonJS
