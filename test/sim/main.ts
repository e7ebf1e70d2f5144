// `npm run sim -- [--seed S] [--schedules N | --minutes M] [--nodes N] [--base B] [--digest]`: the
// deterministic simulation of the three daemons' cores (issue 11). Without --seed it runs
// schedules from seeds base, base+1, …; a failure prints its seed, the one-line command that
// replays it, the violations and the shrunk trace, and exits 1. With --seed it replays one
// schedule and prints its trace; --watch KEY adds every change of that key's copies to it,
// --logs the daemons' logs. --digest prints a sha256 of every trace (two runs must agree).
// --scenario NAME runs one named scenario (test/sim/scenarios.ts) and prints its trace.
import { createHash } from 'node:crypto';
import { failureReport } from './report.js';
import { runScenario, scenarios } from './scenarios.js';
import { runSchedule } from './schedule.js';

interface Args {
  seed?: number;
  schedules?: number;
  minutes?: number;
  nodes?: number;
  base: number;
  watch?: string;
  logs?: boolean;
  digest?: boolean;
  scenario?: string;
}

function parse(argv: string[]): Args {
  const a: Args = { base: Date.now() % 1_000_000_000 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--logs' || argv[i] === '--digest') {
      if (argv[i] === '--logs') a.logs = true;
      else a.digest = true;
      i--;
      continue;
    }
    if (argv[i] === '--scenario') {
      a.scenario = argv[i + 1] ?? '';
      continue;
    }
    if (argv[i] === '--watch') {
      a.watch = argv[i + 1] ?? '';
      continue;
    }
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${argv[i]} needs a non-negative integer`);
    switch (argv[i]) {
      case '--seed': a.seed = v; break;
      case '--schedules': a.schedules = v; break;
      case '--minutes': a.minutes = v; break;
      case '--nodes': a.nodes = v; break;
      case '--base': a.base = v; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return a;
}

function main(): number {
  const args = parse(process.argv.slice(2));
  if (args.scenario !== undefined) {
    const sc = scenarios.find((x) => x.name === args.scenario);
    if (sc === undefined) throw new Error(`no scenario named "${args.scenario}"; there are:\n${scenarios.map((x) => `  ${x.name}`).join('\n')}`);
    const r = runScenario(sc, { ...(args.logs === true ? { logs: true } : {}), ...(args.watch !== undefined ? { watchKey: args.watch } : {}) });
    process.stdout.write(`${r.trace.join('\n')}\n`);
    if (r.missed !== '') process.stdout.write(`scenario missed its fault: ${r.missed}\n`);
    if (!r.ok) process.stdout.write(`${failureReport(r)}\n`);
    else process.stdout.write(`scenario "${sc.name}": ok\n`);
    return r.ok && r.missed === '' ? 0 : 1;
  }
  if (args.seed !== undefined) {
    const r = runSchedule({ seed: args.seed, ...(args.nodes !== undefined ? { nodes: args.nodes } : {}), ...(args.watch !== undefined ? { watchKey: args.watch } : {}), ...(args.logs === true ? { logs: true } : {}) });
    process.stdout.write(`${r.trace.join('\n')}\n`);
    if (r.ok) {
      process.stdout.write(`seed ${r.seed}: ok (${r.nodes} nodes, ${r.steps.length} steps, ${r.events} events, ${(r.simMs / 1000).toFixed(1)} s simulated)\n`);
      return 0;
    }
    process.stdout.write(`${failureReport(r)}\n`);
    return 1;
  }
  const started = performance.now();
  const deadline = args.minutes === undefined ? Infinity : started + args.minutes * 60_000;
  const count = args.schedules ?? (args.minutes === undefined ? 100 : Infinity);
  let done = 0;
  let events = 0;
  let simMs = 0;
  let lastReport = started;
  const hash = createHash('sha256');
  for (let seed = args.base; done < count && performance.now() < deadline; seed++) {
    const r = runSchedule({ seed, ...(args.nodes !== undefined ? { nodes: args.nodes } : {}) });
    done++;
    for (const line of r.trace) hash.update(`${line}\n`);
    events += r.events;
    simMs += r.simMs;
    if (!r.ok) {
      process.stdout.write(`${failureReport(r)}\n`);
      return 1;
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stdout.write(`${done} schedules, 0 violations, ${(done / ((lastReport - started) / 1000)).toFixed(1)} schedules/s\n`);
    }
  }
  const s = (performance.now() - started) / 1000;
  const perSchedule = s / done;
  process.stdout.write([
    `${done} schedules from seed ${args.base}: 0 violations`,
    `${s.toFixed(1)} s wall, ${(done / s).toFixed(1)} schedules/s, ${(events / s).toFixed(0)} events/s, ${(simMs / 1000 / s).toFixed(0)}× real time`,
    `1,000,000 schedules would take ${(perSchedule * 1e6 / 3600).toFixed(1)} h on one core`,
    ...(args.digest === true ? [`traces sha256 ${hash.digest('hex')}`] : []),
    '',
  ].join('\n'));
  return 0;
}

process.exit(main());
