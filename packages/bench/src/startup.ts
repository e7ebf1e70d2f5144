// startup: spawn the real `ctdbng-cluster up -n 3 --fresh` and time it until it returns (it
// returns when every node answers with the full vnnmap); `down` between runs is not timed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterBin } from './cli-paths.js';
import { commandLine, portBases, secondsSince, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { median } from './stats.js';

export interface StartupRuns {
  /** Wall time of each `up` process, spawn to exit, in seconds. */
  wallSec: number[];
  /** What `up` itself reported ("up in N ms"), in seconds. */
  reportedSec: number[];
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

export async function startupRuns(o: CommonOptions, runs: number, portBase: number, name = 'startup'): Promise<StartupRuns> {
  mkdirSync(o.baseDir, { recursive: true });
  const base = join(o.baseDir, name);
  const bin = clusterBin();
  const upArgs = ['up', '-n', '3', '--fresh', '--base', base, '--port-base', String(portBase)];
  const down = (): void => { spawnSync(process.execPath, [bin, 'down', '--base', base], { stdio: 'ignore' }); };
  const res: StartupRuns = { wallSec: [], reportedSec: [], command: `npx ctdbng-cluster ${upArgs.join(' ')}` };
  down();
  try {
    for (let r = 0; r < runs; r++) {
      const u = await runUp([bin, ...upArgs]);
      if (u.code !== 0) throw new Error(`ctdbng-cluster up failed (exit ${u.code}):\n${u.out}`);
      const m = /up in (\d+) ms/.exec(u.out);
      res.wallSec.push(u.sec);
      res.reportedSec.push(m ? Number(m[1]) / 1000 : Number.NaN);
      o.log(`  run ${r + 1}: ${u.sec.toFixed(3)} s (up reported ${m ? m[1] : '?'} ms)`);
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
    { label: `cluster start, 3 nodes, until all answer (median of ${so.runs}, CLI spawn to exit)`, value: med, unit: 's', target: { op: '<=', value: 1.5 }, headline: true,
      ctdb: { value: 8.27, source: 'FIGURES.md §a', what: 'up.sh --fresh 3 until every node OK' } },
    { label: 'min', value: Math.min(...r.wallSec), unit: 's' },
    { label: 'max', value: Math.max(...r.wallSec), unit: 's' },
    { label: 'median as reported by `up` itself', value: median(r.reportedSec), unit: 's' },
  ];
  return {
    bench: 'startup', command: `${commandLine(['startup', '--runs', String(so.runs), '--port-base', String(portBase)])}  (each run: ${r.command})`,
    figures, notes: [`runs: ${r.wallSec.map((s) => s.toFixed(3)).join(', ')} s`], elapsedSec: secondsSince(t0),
  };
}
