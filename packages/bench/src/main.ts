#!/usr/bin/env node
// ctdbng-bench: benchmarks of ctdb-ng on local clusters, their floors, and a real CTDB 4.17, in one
// run. They print figures and assert nothing (README.md). Exit 0 when every benchmark ran, 1 when
// one failed, 2 on a usage error.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAll } from './all.js';
import { cliBench } from './cli.js';
import { cliStartBench } from './cli-start.js';
import { baseDirDefault, type CommonOptions } from './common.js';
import { concurrentBench, type Layout } from './concurrent.js';
import { benchDocument } from './document.js';
import { floorsBench } from './floors.js';
import { idleBench } from './idle.js';
import { localBench } from './local.js';
import { migrateBench } from './migrate.js';
import { peerBench, peerDirDefault } from './peer.js';
import { resultText, type BenchResult } from './report.js';
import { recoveryBench } from './recovery.js';
import { markdownTable } from './rows.js';
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

function ints(min: number, max: number): (v: string, prev: number[] | undefined) => number[] {
  const one = int(min, max);
  return (v, prev) => [...(prev ?? []), one(v)];
}

/** RECORDS/DELETES or RECORDS/DELETESxRUNS, repeatable. */
function parseVariant(v: string, prev: VacuumVariant[] | undefined): VacuumVariant[] {
  const m = /^(\d+)\/(\d+)(?:x(\d+))?$/.exec(v);
  const records = Number(m?.[1]);
  const deletes = Number(m?.[2]);
  const runs = m?.[3] === undefined ? 1 : Number(m[3]);
  if (m === null || records < 1 || deletes < 1 || deletes > records || runs < 1) throw new InvalidArgumentError('expected RECORDS/DELETES[xRUNS], e.g. 100000/5000 or 10000/1000x3');
  return [...(prev ?? []), { records, deletes, runs }];
}

interface GlobalFlags { json: boolean; baseDir: string; logLevel: CommonOptions['logLevel']; portBase?: number }

function withCommon(c: Command): Command {
  return c
    .option('--json', 'print one JSON document of the results on stdout (the human output goes to stderr)', false)
    .option('--base-dir <dir>', 'parent directory of the benchmark clusters', baseDirDefault)
    .option('--port-base <P>', "port base of this benchmark's cluster (default: one per benchmark, 25400..25540)", int(1024, 65_000))
    .addOption(new Option('--log-level <level>', 'daemon log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'));
}

function commonOf(f: GlobalFlags): CommonOptions {
  const out = f.json ? process.stderr : process.stdout;
  return { baseDir: f.baseDir, logLevel: f.logLevel, log: (l) => out.write(`${l}\n`) };
}

let failed = false;

/** Runs one benchmark, prints its result, and records a failure instead of throwing. */
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

const commandText = (): string => `npx ctdbng-bench ${process.argv.slice(2).join(' ')}`;

function emitJson(f: GlobalFlags, results: BenchResult[], extra: { quick?: boolean; elapsedSec?: number } = {}): void {
  if (!f.json) return;
  const doc = benchDocument(results, { command: commandText(), quick: extra.quick ?? false, ...(extra.elapsedSec !== undefined ? { elapsedSec: extra.elapsedSec } : {}) });
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** A single benchmark's subcommand: run it, print it, and its JSON document with --json. */
function single<F extends GlobalFlags>(name: string, fn: (o: CommonOptions, f: F) => Promise<BenchResult>): (f: F) => Promise<void> {
  return async (f) => { emitJson(f, [await runOne(f, name, (o) => fn(o, f))]); };
}

function program(): Command {
  const p = new Command('ctdbng-bench')
    .description('Benchmarks of ctdb-ng, their floors on this machine, and CTDB 4.17 in the same run. They print figures; they assert nothing.')
    .exitOverride();

  withCommon(p.command('floors'))
    .description('the bare floors, now, here: better-sqlite3 (2 transactions, 1), zeromq.js round trips (tcp, ipc), `node -e \'\'` start, a migration prototype')
    .option('--ops <n>', 'measured operations of the SQLite and ZeroMQ loops', int(1), 20_000)
    .option('--migration-ops <n>', 'measured operations of the migration prototype', int(1), 5_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 1_000)
    .option('--node-runs <n>', "`node -e ''` starts", int(1), 20)
    .action(single('floors', (o, f: GlobalFlags & { ops: number; migrationOps: number; warmup: number; nodeRuns: number }) => floorsBench(o, f)));

  withCommon(p.command('local-shared'))
    .description('fetch_lock+store+unlock of a local record with shared access: p50/p99, ops/s from 1 and from N processes; db.update')
    .option('--ops <n>', 'measured operations (per process)', int(1), 20_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 1_000)
    .option('--procs <n>', 'processes of the multi-process run (0 skips it)', int(0, 16), 2)
    .action(single('local-shared', (o, f: GlobalFlags & { ops: number; warmup: number; procs: number }) => localBench(o, 'shared', f)));

  withCommon(p.command('local-zmq'))
    .description('the same over the ZeroMQ path (no shared access): p50/p99, ops/s')
    .option('--ops <n>', 'measured operations', int(1), 20_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 1_000)
    .action(single('local-zmq', (o, f: GlobalFlags & { ops: number; warmup: number }) => localBench(o, 'zmq', { ...f, procs: 0 })));

  withCommon(p.command('migrate'))
    .description('a record that migrates on every op (clients on nodes 0 and 2 alternate, lmaster 1): p50/p99, ops/s')
    .option('--ops <n>', 'measured operations', int(1), 5_000)
    .option('--warmup <n>', 'unmeasured operations first', int(0), 500)
    .action(single('migrate', (o, f: GlobalFlags & { ops: number; warmup: number }) => migrateBench(o, f)));

  withCommon(p.command('concurrent'))
    .description('1 connection, then N concurrent ZeroMQ connections on node 0, distinct keys: total ops/s (1 process x N and 2 processes x N/2)')
    .option('--ops <n>', 'measured operations per connection', int(1), 2_500)
    .option('--warmup <n>', 'unmeasured operations per connection first', int(0), 200)
    .option('--connections <n>', 'connections', int(1, 256), 8)
    .addOption(new Option('--layout <l>', 'client processes').choices(['1x8', '2x4', 'both']).default('both'))
    .action(single('concurrent', (o, f: GlobalFlags & { ops: number; warmup: number; connections: number; layout: string }) =>
      concurrentBench(o, { ...f, layouts: f.layout === 'both' ? ['1x8', '2x4'] : [f.layout as Layout] })));

  withCommon(p.command('cli'))
    .description('ctdbng CLI calls, one process each: pnn, writekey/readkey local and remote, a writekey loop of new keys, catdb of its db')
    .option('--n <n>', 'calls per series (and catdb runs)', int(1), 20)
    .option('--loop-keys <n>', 'new keys of the writekey loop', int(1), 300)
    .action(single('cli', (o, f: GlobalFlags & { n: number; loopKeys: number }) => cliBench(o, f)));

  withCommon(p.command('traverse'))
    .description('fill a volatile db with N records over 3 nodes, then time cluster-wide traverses (library) and `ctdbng catdb` (CLI)')
    .option('--records <n>', 'records', int(1), 100_000)
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--runs <n>', 'traverses timed (and catdb runs)', int(1), 3)
    .option('--no-cli', 'skip the `ctdbng catdb` CLI timing')
    .action(single('traverse', (o, f: GlobalFlags & { records: number; window: number; runs: number; cli: boolean }) => traverseBench(o, f)));

  withCommon(p.command('recovery'))
    .description('a volatile db of N records held by all 3 nodes: time K recoveries (recoverd\'s own duration and the `ctdbng recover` wall time)')
    .option('--records <n>', 'records (1000000 for the growth figure)', int(1), 100_000)
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--runs <n>', 'recoveries timed', int(1), 3)
    .action(single('recovery', (o, f: GlobalFlags & { records: number; window: number; runs: number }) => recoveryBench(o, f)));

  withCommon(p.command('vacuum'))
    .description('D deletes in a db of N records held by all 3 nodes: time from the last delete until purged from every node')
    .option('--variant <N/D[xR]>', 'records/deletes[xruns], repeatable (default: 100000/5000 and 10000/1000x3)', parseVariant)
    .option('--interval <s>', 'VacuumInterval of every node, repeatable (default: ctdb-ng\'s defaults; `all` uses 10 and 1)', ints(1, 3600))
    .option('--window <n>', 'fill: operations in flight per node', int(1, 5_000), 256)
    .option('--delete-window <n>', 'deletes in flight through node 0', int(1, 5_000), 64)
    .option('--timeout <s>', 'give up waiting for the purge after this many seconds', int(1), 300)
    .action(single('vacuum', (o, f: GlobalFlags & { variant?: VacuumVariant[]; interval?: number[]; window: number; deleteWindow: number; timeout: number }) =>
      vacuumBench(o, { ...f, variants: f.variant ?? vacuumVariantsDefault, intervals: f.interval ?? [undefined], timeoutSec: f.timeout })));

  withCommon(p.command('vacuum-latency'))
    .description('fetch_lock+store+unlock p99 on node 0 while vacuumd purges T tombstones vs idle, and vacuumd memory')
    .option('--tombstones <n>', 'records deleted, then purged by vacuumd', int(1), 50_000)
    .option('--ops <n>', 'measured operations per path in the idle window', int(1), 5_000)
    .option('--warmup <n>', 'unmeasured operations per path first', int(0), 500)
    .addOption(new Option('--path <p>', 'client path(s) measured (both: alternate, one key each)').choices(['zmq', 'shared', 'both']).default('both'))
    .option('--no-pause', 'delete with vacuumd running and measure from the first delete (default: vacuumd is SIGSTOPped during the deletes)')
    .option('--window <n>', 'fill and deletes: operations in flight', int(1, 5_000), 256)
    .option('--timeout <s>', 'end the vacuum window after this many seconds at most', int(1), 300)
    .action(single('vacuum-latency', (o, f: GlobalFlags & { tombstones: number; ops: number; warmup: number; path: string; pause: boolean; window: number; timeout: number }) =>
      vacuumLatencyBench(o, { ...f, paths: f.path === 'both' ? ['zmq', 'shared'] : [f.path as LatencyPath], timeoutSec: f.timeout })));

  withCommon(p.command('startup'))
    .description('spawn `ctdbng-cluster up -n N --fresh`: time until every node reports every node OK (as CTDB\'s row), and until `up` returns')
    .option('--runs <n>', 'runs', int(1), 5)
    .option('--nodes <n>', 'nodes', int(1, 64), 3)
    .action(single('startup', (o, f: GlobalFlags & { runs: number; nodes: number }) => startupBench(o, f)));

  withCommon(p.command('idle'))
    .description('CPU used by an idle N-node cluster (every process of every node, from /proc)')
    .option('--nodes <n>', 'nodes', int(1, 64), 3)
    .option('--settle <s>', 'seconds left alone before measuring', int(0), 5)
    .option('--window <s>', 'seconds per window', int(1), 10)
    .option('--windows <n>', 'windows (min, median, max)', int(1), 3)
    .action(single('idle', (o, f: GlobalFlags & { nodes: number; settle: number; window: number; windows: number }) =>
      idleBench(o, { ...f, settleSec: f.settle, windowSec: f.window })));

  withCommon(p.command('cli-start'))
    .description("time `ctdbng pnn` and the tools' --help next to bare `node -e ''`, in turn")
    .option('--rounds <n>', 'runs of each', int(1), 30)
    .action(single('cli-start', (o, f: GlobalFlags & { rounds: number }) => cliStartBench(o, f)));

  withCommon(p.command('peer'))
    .description('CTDB 4.17\'s side of every row it can do, on ../shared/peer-ctdb (needs `ctdb` and root); `all` joins it with ctdb-ng\'s rows')
    .option('--peer-dir <dir>', 'the peer scripts (up.sh, down.sh, bench.py, ctdbkeys.py)', peerDirDefault)
    .option('--runs <n>', 'cluster starts', int(1), 3)
    .option('--n <n>', 'CLI calls per series', int(1), 20)
    .option('--loop-keys <n>', 'new keys of the writekey loop', int(1), 300)
    .option('--catdb-runs <n>', '`ctdb catdb` runs of the populated db', int(1), 3)
    .option('--records <n>', 'bench.py populate --count', int(1), 100_000)
    .option('--recoveries <n>', 'bench.py populate --recoveries', int(1), 3)
    .option('--variant <N/D[xR]>', 'bench.py vacuum --count N --delete D, R times, repeatable (default: 100000/5000 and 10000/1000x3)', parseVariant)
    .option('--interval <s>', 'VacuumInterval of the vacuum runs, repeatable (default: 10 and 1)', ints(1, 3600))
    .option('--no-sixteen', 'skip the 16-node start and idle')
    .action(single('peer', (o, f: GlobalFlags & {
      peerDir: string; runs: number; n: number; loopKeys: number; catdbRuns: number; records: number; recoveries: number; variant?: VacuumVariant[]; interval?: number[]; sixteen: boolean;
    }) => peerBench(o, {
      peerDir: f.peerDir, startRuns: f.runs, n: f.n, loopKeys: f.loopKeys, catdbRuns: f.catdbRuns, populate: { records: f.records, recoveries: f.recoveries },
      vacuum: { variants: f.variant ?? vacuumVariantsDefault, intervals: f.interval ?? [10, 1] }, idle: { settleSec: 5, windowSec: 10, windows: 3 }, sixteen: f.sixteen,
    })));

  withCommon(p.command('all'))
    .description('floors, every benchmark, CTDB in the same run, then the table (benchmark | figure | floor | CTDB | target | met?); --port-base P moves every benchmark\'s port base by P − 25400')
    .option('--quick', 'small counts: a smoke test, not figures; targets are not judged', false)
    .addOption(new Option('--peer <kind>', 'the reference measured in the same run; required (default: run it when it can run here, else say why)').choices(['ctdb']))
    .option('--no-peer', 'no CTDB side')
    .option('--big', 'also the recovery of 10× the records (1,000,000), and its growth ratio', false)
    .option('--peer-dir <dir>', 'the peer scripts', peerDirDefault)
    .action(async (f: GlobalFlags & { quick: boolean; peer?: string | false; big: boolean; peerDir: string }) => {
      const t0 = process.hrtime.bigint();
      const g: GlobalFlags = { ...f, portBase: undefined };
      const results = await runAll({ quick: f.quick, peer: f.peer !== false, big: f.big, peerDir: f.peerDir, ...(f.portBase !== undefined ? { portBase: f.portBase } : {}) },
        (name, fn) => runOne(g, name, fn));
      // Asked for by name, CTDB must run: a skipped peer is then a failure (exit 1).
      const peer = results.find((r) => r.bench === 'ctdb');
      if (f.peer === 'ctdb' && peer?.skipped !== undefined) {
        failed = true;
        process.stderr.write(`ctdbng-bench: --peer ctdb, but CTDB could not run: ${peer.skipped}\n`);
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const o = commonOf(f);
      const doc = benchDocument(results, { command: commandText(), quick: f.quick, elapsedSec: secs });
      o.log(`# all: ${secs.toFixed(1)} s${f.quick ? ' (--quick: small counts, a smoke test; targets not judged)' : ''}\n`);
      o.log(markdownTable(doc.rows));
      if (f.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
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
