// startup: spawn the real `ctdbng-cluster up -n 3 --fresh` and time it until it returns. `up`
// returns when every node is ready: recoverd's have elected a leader and the first recovery is
// done on every node (generation set, thawed, full vnnmap, links up). After each run, node 0's
// `ctdbng --json uptime` gives that first recovery's duration; `down` between runs is not timed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterBin } from './cli-paths.js';
import { ctdbngJson } from './cluster-ops.js';
import { commandLine, portBases, secondsSince, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { median } from './stats.js';

export interface StartupRuns {
  /** Wall time of each `up` process, spawn to exit, in seconds. */
  wallSec: number[];
  /** What `up` itself reported ("up in N ms"), in seconds. */
  reportedSec: number[];
  /** Node 0's lastRecoveryDurationMs right after `up` (the first recovery), in seconds; NaN if unknown. */
  firstRecoverySec: number[];
  /** From the daemons' logs (every node): phases of each run, in seconds (NaN when a line is missing). */
  phases: StartupPhases[];
  command: string;
}

function runUp(argv: string[]): Promise<{ sec: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const ch = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ch.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    ch.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    ch.on('error', reject);
    ch.on('exit', (code) => resolve({ sec: secondsSince(t0), code, out }));
  });
}

export interface StartupPhases {
  /** First supervisor "daemon started" → the last node's "dbd started" (process start-up). */
  dbdsUpSec: number;
  /** The last "dbd started" → the last node's first "thawed" (links, election, first recovery). */
  electionAndRecoverySec: number;
}

/** Times (Unix ms) of the log lines of `file` whose msg is `msg`. */
function logTimes(file: string, msg: string): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const t = /"time":(\d+)/.exec(line);
    if (t !== null) out.push(Number(t[1]));
  }
  return out;
}

/** The phases of the run whose logs are in `base`/node.P/log (3 nodes). */
export function startupPhases(base: string, nodes = 3): StartupPhases {
  const dirs = Array.from({ length: nodes }, (_, p) => join(base, `node.${p}`, 'log'));
  const first = Math.min(...dirs.flatMap((d) => logTimes(join(d, 'supervisor.log'), 'daemon started')));
  const dbdUp = dirs.map((d) => logTimes(join(d, 'dbd.log'), 'dbd started')[0] ?? Number.NaN);
  const thawed = dirs.map((d) => logTimes(join(d, 'dbd.log'), 'thawed')[0] ?? Number.NaN);
  const lastDbd = Math.max(...dbdUp);
  return { dbdsUpSec: (lastDbd - first) / 1000, electionAndRecoverySec: (Math.max(...thawed) - lastDbd) / 1000 };
}

export async function startupRuns(o: CommonOptions, runs: number, portBase: number, name = 'startup'): Promise<StartupRuns> {
  mkdirSync(o.baseDir, { recursive: true });
  const base = join(o.baseDir, name);
  const bin = clusterBin();
  const upArgs = ['up', '-n', '3', '--fresh', '--base', base, '--port-base', String(portBase)];
  const down = (): void => { spawnSync(process.execPath, [bin, 'down', '--base', base], { stdio: 'ignore' }); };
  const res: StartupRuns = { wallSec: [], reportedSec: [], firstRecoverySec: [], phases: [], command: `npx ctdbng-cluster ${upArgs.join(' ')}` };
  down();
  try {
    for (let r = 0; r < runs; r++) {
      const u = await runUp([bin, ...upArgs]);
      if (u.code !== 0) throw new Error(`ctdbng-cluster up failed (exit ${u.code}):\n${u.out}`);
      const m = /up in (\d+) ms/.exec(u.out);
      res.wallSec.push(u.sec);
      res.reportedSec.push(m ? Number(m[1]) / 1000 : Number.NaN);
      const rec = await ctdbngJson<{ lastRecoveryDurationMs: number }>(join(base, 'node.0'), ['uptime']).then((x) => x.json.lastRecoveryDurationMs / 1000, () => Number.NaN);
      res.firstRecoverySec.push(rec);
      const ph = startupPhases(base);
      res.phases.push(ph);
      o.log(`  run ${r + 1}: ${u.sec.toFixed(3)} s (up reported ${m ? m[1] : '?'} ms; first recovery ${Number.isFinite(rec) ? `${(rec * 1000).toFixed(0)} ms` : 'n/a'}; from the logs: daemons started → every dbd up ${ph.dbdsUpSec.toFixed(2)} s, → every node thawed after the first recovery ${ph.electionAndRecoverySec.toFixed(2)} s)`);
      down();
    }
  } finally {
    down();
  }
  return res;
}

export async function startupBench(o: CommonOptions, so: { runs: number; portBase?: number }): Promise<BenchResult> {
  const portBase = so.portBase ?? portBases.startup;
  const t0 = process.hrtime.bigint();
  o.log(`# startup: ctdbng-cluster up -n 3 --fresh, ${so.runs} runs`);
  const r = await startupRuns(o, so.runs, portBase);
  const med = median(r.wallSec);
  const figures: Figure[] = [
    { label: `cluster start, 3 nodes, election and first recovery included (median of ${so.runs}, CLI spawn to exit)`, value: med, unit: 's', target: { op: '<=', value: 1.5 }, headline: true,
      ctdb: { value: 8.27, source: 'FIGURES.md §a', what: 'up.sh --fresh 3 until every node OK' } },
    { label: 'min', value: Math.min(...r.wallSec), unit: 's' },
    { label: 'max', value: Math.max(...r.wallSec), unit: 's' },
    { label: 'median as reported by `up` itself', value: median(r.reportedSec), unit: 's' },
    { label: 'first recovery (node 0 `ctdbng uptime --json` lastRecoveryDurationMs, median)', value: median(r.firstRecoverySec.filter(Number.isFinite)), unit: 's',
      ctdb: { value: 0.02, source: 'FIGURES.md §a', what: 'first recovery done in 0.02 s, 5.09 s after start (leader timeout 5 s)' } },
    { label: 'phase: supervisors start the daemons → every dbd up (process start-up, median, from the logs)', value: median(r.phases.map((p) => p.dbdsUpSec)), unit: 's' },
    { label: 'phase: every dbd up → every node thawed after the first recovery (links, election, recovery; median)', value: median(r.phases.map((p) => p.electionAndRecoverySec)), unit: 's' },
  ];
  return {
    bench: 'startup', command: `${commandLine(['startup', '--runs', String(so.runs), '--port-base', String(portBase)])}  (each run: ${r.command})`,
    figures, notes: [`runs: ${r.wallSec.map((s) => s.toFixed(3)).join(', ')} s`], elapsedSec: secondsSince(t0),
  };
}
