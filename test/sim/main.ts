// `npm run sim -- [options]`: the deterministic simulation of the three daemons' cores (issue 11).
//   --schedules N | --minutes M   how many schedules, or for how long (default 100 schedules)
//   --base B                      the first seed (default: from the clock, printed); seeds B, B+1, …
//   --jobs J                      J processes (one per core), seed B+k in process k mod J
//   --digest                      a sha256 over every trace, in seed order (two runs must agree)
//   --seed S                      replay one schedule and print its trace
//   --scenario NAME               run one named scenario (test/sim/scenarios.ts), print its trace
//   --watch KEY, --logs           with --seed or --scenario: every change of KEY's copies and its
//                                 node messages; the daemons' logs
//   --nodes N                     force the cluster size (else drawn from the seed)
// A failure prints its seed, the command that replays it, the violations and the shrunk trace,
// and exits 1. The summary gives schedules, steps and events per second and what 1,000,000
// schedules would take.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { failureReport } from './report.js';
import { runScenario, scenarios } from './scenarios.js';
import { runSchedule } from './schedule.js';

interface Args {
  seed?: number;
  schedules?: number;
  minutes?: number;
  nodes?: number;
  base: number;
  jobs: number;
  /** In a job process: this process runs seeds base + job, base + job + jobs, … */
  job?: number;
  watch?: string;
  logs?: boolean;
  digest?: boolean;
  scenario?: string;
}

const flags = new Set(['--logs', '--digest']);
const strings = new Set(['--scenario', '--watch']);
const numbers: Record<string, keyof Args> = { '--seed': 'seed', '--schedules': 'schedules', '--minutes': 'minutes', '--nodes': 'nodes', '--base': 'base', '--jobs': 'jobs', '--job': 'job' };

function parse(argv: string[]): Args {
  const a: Args = { base: Date.now() % 1_000_000_000, jobs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    if (flags.has(name)) {
      if (name === '--logs') a.logs = true;
      else a.digest = true;
    } else if (strings.has(name)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      if (name === '--scenario') a.scenario = v;
      else a.watch = v;
    } else if (numbers[name] !== undefined) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer`);
      (a as unknown as Record<string, number>)[numbers[name]] = v;
    } else {
      throw new Error(`unknown option ${name}`);
    }
  }
  if (a.jobs < 1) throw new Error('--jobs needs at least 1');
  return a;
}

/** What one process ran: the parent adds the jobs' up. */
interface Tally {
  schedules: number;
  steps: number;
  events: number;
  simMs: number;
  /** Per seed, in seed order: the sha256 of its trace. */
  traces: string[];
  failure?: string;
}

function runMany(a: Args, onProgress: (t: Tally) => void): Tally {
  const started = performance.now();
  const deadline = a.minutes === undefined ? Infinity : started + a.minutes * 60_000;
  const jobs = a.job === undefined ? 1 : a.jobs;
  const count = a.schedules ?? (a.minutes === undefined ? 100 : Infinity);
  const t: Tally = { schedules: 0, steps: 0, events: 0, simMs: 0, traces: [] };
  let lastReport = started;
  for (let seed = a.base + (a.job ?? 0); seed < a.base + count && performance.now() < deadline; seed += jobs) {
    const r = runSchedule({ seed, ...(a.nodes !== undefined ? { nodes: a.nodes } : {}) });
    t.schedules++;
    t.steps += r.steps.length;
    t.events += r.events;
    t.simMs += r.simMs;
    if (a.digest === true) t.traces.push(createHash('sha256').update(r.trace.join('\n')).digest('hex'));
    if (!r.ok) {
      t.failure = failureReport(r);
      return t;
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      onProgress(t);
    }
  }
  return t;
}

function summary(a: Args, t: Tally, wallS: number): string {
  const perCoreS = wallS * a.jobs / t.schedules;
  return [
    `${t.schedules} schedules from seed ${a.base} (${a.jobs} process${a.jobs > 1 ? 'es' : ''}): 0 violations`,
    `${wallS.toFixed(1)} s wall, ${(t.schedules / wallS).toFixed(1)} schedules/s, ${(t.steps / wallS).toFixed(0)} fault steps/s, ${(t.events / wallS).toFixed(0)} events/s, ${(t.simMs / 1000 / wallS).toFixed(0)}× real time`,
    `1,000,000 schedules would take ${(perCoreS * 1e6 / 3600).toFixed(1)} h on one core, ${(perCoreS * 1e6 / 3600 / a.jobs).toFixed(1)} h with ${a.jobs} process${a.jobs > 1 ? 'es' : ''}`,
    ...(a.digest === true ? [`traces sha256 ${createHash('sha256').update(t.traces.join('\n')).digest('hex')}`] : []),
    '',
  ].join('\n');
}

/** --jobs J: J child processes, each on its share of the seeds; their tallies joined in seed order. */
function runJobs(a: Args): Promise<number> {
  const started = performance.now();
  const self = fileURLToPath(import.meta.url);
  const passOn = process.argv.slice(2).filter((_, i, xs) => xs[i] !== '--jobs' && xs[i - 1] !== '--jobs');
  const tallies: (Tally | undefined)[] = Array.from({ length: a.jobs }, () => undefined);
  const children = tallies.map((_, k) => fork(self, [...passOn, '--base', String(a.base), '--jobs', String(a.jobs), '--job', String(k)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve) => {
    let left = a.jobs;
    let failed = false;
    children.forEach((child, k) => {
      child.on('message', (m: Tally) => {
        tallies[k] = m;
        if (m.failure !== undefined && !failed) {
          failed = true;
          process.stdout.write(`${m.failure}\n`);
          for (const c of children) if (c !== child) c.kill();
        }
      });
      child.on('exit', () => {
        if (--left > 0) return;
        if (failed) return resolve(1);
        const done = tallies.filter((x): x is Tally => x !== undefined);
        const total: Tally = { schedules: 0, steps: 0, events: 0, simMs: 0, traces: [] };
        for (const x of done) {
          total.schedules += x.schedules;
          total.steps += x.steps;
          total.events += x.events;
          total.simMs += x.simMs;
        }
        // Seed order: job k ran seeds base + k, base + k + J, …
        for (let i = 0; i < total.schedules; i++) total.traces.push(done[i % a.jobs]?.traces[Math.floor(i / a.jobs)] ?? '');
        process.stdout.write(summary(a, total, (performance.now() - started) / 1000));
        resolve(0);
      });
    });
  });
}

async function main(): Promise<number> {
  const a = parse(process.argv.slice(2));
  if (a.scenario !== undefined) {
    const sc = scenarios.find((x) => x.name === a.scenario);
    if (sc === undefined) throw new Error(`no scenario named "${a.scenario}"; there are:\n${scenarios.map((x) => `  ${x.name}`).join('\n')}`);
    const r = runScenario(sc, { ...(a.logs === true ? { logs: true } : {}), ...(a.watch !== undefined ? { watchKey: a.watch } : {}) });
    process.stdout.write(`${r.trace.join('\n')}\n`);
    if (r.missed !== '') process.stdout.write(`scenario missed its fault: ${r.missed}\n`);
    process.stdout.write(r.ok ? `scenario "${sc.name}": ok\n` : `${failureReport(r)}\n`);
    return r.ok && r.missed === '' ? 0 : 1;
  }
  if (a.seed !== undefined) {
    const r = runSchedule({ seed: a.seed, ...(a.nodes !== undefined ? { nodes: a.nodes } : {}), ...(a.watch !== undefined ? { watchKey: a.watch } : {}), ...(a.logs === true ? { logs: true } : {}) });
    process.stdout.write(`${r.trace.join('\n')}\n`);
    if (!r.ok) {
      process.stdout.write(`${failureReport(r)}\n`);
      return 1;
    }
    process.stdout.write(`seed ${r.seed}: ok (${r.nodes} nodes, ${r.steps.length} steps, ${r.events} events, ${(r.simMs / 1000).toFixed(1)} s simulated)\n`);
    return 0;
  }
  if (a.jobs > 1 && a.job === undefined) return runJobs(a);
  const started = performance.now();
  const progress = (t: Tally): void => {
    const s = (performance.now() - started) / 1000;
    if (a.job === undefined) process.stdout.write(`${t.schedules} schedules, 0 violations, ${(t.schedules / s).toFixed(1)} schedules/s\n`);
  };
  const t = runMany(a, progress);
  if (a.job !== undefined) {
    process.send?.(t);
    return t.failure === undefined ? 0 : 1;
  }
  if (t.failure !== undefined) {
    process.stdout.write(`${t.failure}\n`);
    return 1;
  }
  process.stdout.write(summary(a, t, (performance.now() - started) / 1000));
  return 0;
}

main().then((code) => {
  process.exitCode = code;
  if (process.send === undefined) process.exit(code);
  else process.disconnect();
}, (err: unknown) => {
  process.stderr.write(`sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
