// startup: spawn the real `ctdbng-cluster up -n N --fresh` and time it, `--runs` times. Two clocks,
// both from the spawn:
//   ready  the criterion shared with CTDB (readiness.ts): every node reports every node OK and
//          node 0 is out of recovery; the figure compared with CTDB's in the same run;
//   up     until `up` exits: it returns when recoverd's have elected a leader and the first
//          recovery is done on every node (the target of issue 12: ≤ 1.5 s for 3 nodes, ≤ 6 s for 16).
// After each run: node 0's `ctdbng --json uptime` → the first recovery's duration, and two phases
// from the daemons' logs. `down` between runs is not timed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { binCommand, clusterBin } from './cli-paths.js';
import { ctdbngJson } from './cluster-ops.js';
import { commandLine, portBases, secondsSince, type CommonOptions } from './common.js';
import { ctdbngProbe, timeStart } from './readiness.js';
import type { BenchResult, Figure } from './report.js';
import { spreadOf } from './stats.js';

export interface StartupRuns {
  /** Spawn → every node reports every node OK and node 0 is out of recovery, s. */
  readySec: number[];
  /** Spawn → `up` exited, s. */
  upSec: number[];
  /** What `up` itself reported ("up in N ms"), in seconds. */
  reportedSec: number[];
  /** Node 0's lastRecoveryDurationMs right after `up` (the first recovery), in seconds; NaN if unknown. */
  firstRecoverySec: number[];
  /** From the daemons' logs (every node): phases of each run, in seconds (NaN when a line is missing). */
  phases: StartupPhases[];
  command: string;
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

/** The phases of the run whose logs are in `base`/node.P/log. */
export function startupPhases(base: string, nodes = 3): StartupPhases {
  const dirs = Array.from({ length: nodes }, (_, p) => join(base, `node.${p}`, 'log'));
  const first = Math.min(...dirs.flatMap((d) => logTimes(join(d, 'supervisor.log'), 'daemon started')));
  const dbdUp = dirs.map((d) => logTimes(join(d, 'dbd.log'), 'dbd started')[0] ?? Number.NaN);
  const thawed = dirs.map((d) => logTimes(join(d, 'dbd.log'), 'thawed')[0] ?? Number.NaN);
  const lastDbd = Math.max(...dbdUp);
  return { dbdsUpSec: (lastDbd - first) / 1000, electionAndRecoverySec: (Math.max(...thawed) - lastDbd) / 1000 };
}

const readyTimeoutMs = 120_000;

export async function startupRuns(o: CommonOptions, runs: number, portBase: number, name: string, nodes: number): Promise<StartupRuns> {
  mkdirSync(o.baseDir, { recursive: true });
  const base = join(o.baseDir, name);
  const bin = binCommand(clusterBin());
  const upArgs = ['up', '-n', String(nodes), '--fresh', '--base', base, '--port-base', String(portBase)];
  const down = (): void => { spawnSync(bin.cmd, [...bin.args, 'down', '--base', base], { stdio: 'ignore' }); };
  const res: StartupRuns = { readySec: [], upSec: [], reportedSec: [], firstRecoverySec: [], phases: [], command: `npx ctdbng-cluster ${upArgs.join(' ')}` };
  const probe = ctdbngProbe((p) => join(base, `node.${p}`));
  down();
  try {
    for (let r = 0; r < runs; r++) {
      rmSync(base, { recursive: true, force: true }); // so that --fresh finds nothing to take down
      const u = await timeStart(bin.cmd, [...bin.args, ...upArgs], probe, nodes, readyTimeoutMs);
      if (u.exitCode !== 0) throw new Error(`ctdbng-cluster up failed (exit ${u.exitCode}):\n${u.out}`);
      if (!Number.isFinite(u.readySec)) throw new Error(`ctdbng-cluster up returned, but the nodes did not all report OK within ${readyTimeoutMs / 1000} s`);
      const m = /up in (\d+) ms/.exec(u.out);
      res.readySec.push(u.readySec);
      res.upSec.push(u.exitSec);
      res.reportedSec.push(m ? Number(m[1]) / 1000 : Number.NaN);
      const rec = await ctdbngJson<{ lastRecoveryDurationMs: number }>(join(base, 'node.0'), ['uptime']).then((x) => x.json.lastRecoveryDurationMs / 1000, () => Number.NaN);
      res.firstRecoverySec.push(rec);
      const ph = startupPhases(base, nodes);
      res.phases.push(ph);
      o.log(`  run ${r + 1}: ready (all OK, recovery mode NORMAL) ${u.readySec.toFixed(3)} s, \`up\` returned ${u.exitSec.toFixed(3)} s (it says ${m ? m[1] : '?'} ms); first recovery ${Number.isFinite(rec) ? `${(rec * 1000).toFixed(0)} ms` : 'n/a'}; logs: daemons started → every dbd up ${ph.dbdsUpSec.toFixed(2)} s, → every node thawed ${ph.electionAndRecoverySec.toFixed(2)} s`);
      down();
    }
  } finally {
    down();
  }
  return res;
}

/** Targets of issue 12 for `up`: 3 nodes ≤ 1.5 s, 16 nodes ≤ 6 s. */
const upTargetSec: Record<number, number> = { 3: 1.5, 16: 6 };

export async function startupBench(o: CommonOptions, so: { runs: number; nodes: number; portBase?: number }): Promise<BenchResult> {
  const n = so.nodes;
  const name = n === 3 ? 'startup' : `startup-${n}`;
  const portBase = so.portBase ?? (n === 3 ? portBases.startup : portBases['startup-16']);
  const t0 = process.hrtime.bigint();
  o.log(`# ${name}: ctdbng-cluster up -n ${n} --fresh, ${so.runs} runs`);
  const r = await startupRuns(o, so.runs, portBase, name, n);
  const up = spreadOf(r.upSec);
  const ready = spreadOf(r.readySec);
  const rec = spreadOf(r.firstRecoverySec);
  const target = upTargetSec[n];
  const figures: Figure[] = [
    { id: `start.${n}.up`, label: `\`ctdbng-cluster up -n ${n}\`, spawn to exit (leader elected, first recovery done everywhere)`, value: up.median, unit: 's', spread: up, headline: true,
      ...(target !== undefined ? { target: { op: '<=' as const, value: target } } : {}) },
    { id: `start.${n}.ready`, label: `start of ${n} nodes until every node reports every node OK and recovery mode NORMAL (the criterion of the CTDB row)`, value: ready.median, unit: 's', spread: ready, headline: true, ctdbRef: `start.${n}.ready` },
    { id: `start.${n}.first-recovery`, label: 'first recovery, node 0 `uptime` (lastRecoveryDurationMs)', value: rec.median, unit: 's', spread: rec, ctdbRef: `start.${n}.first-recovery` },
    { label: 'median as reported by `up` itself', value: spreadOf(r.reportedSec).median, unit: 's' },
    { label: 'phase: supervisors start the daemons → every dbd up (process start-up, median, from the logs)', value: spreadOf(r.phases.map((p) => p.dbdsUpSec)).median, unit: 's' },
    { label: 'phase: every dbd up → every node thawed after the first recovery (links, election, recovery; median)', value: spreadOf(r.phases.map((p) => p.electionAndRecoverySec)).median, unit: 's' },
  ];
  return {
    bench: name, command: `${commandLine(['startup', '--runs', String(so.runs), '--nodes', String(n), '--port-base', String(portBase)])}  (each run: ${r.command})`,
    figures, notes: [`runs: ready ${r.readySec.map((s) => s.toFixed(3)).join(', ')} s; up ${r.upSec.map((s) => s.toFixed(3)).join(', ')} s`], elapsedSec: secondsSince(t0),
  };
}
