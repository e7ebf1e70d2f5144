// cli-start: how long a command of the user-facing tools takes from exec to exit, next to a bare
// `node -e ''` timed in the same run (issue 12: `ctdbng pnn` ≤ 1.5× bare node). The commands run
// in turn, one of each per round, so that a change of load on a shared machine hits all of them
// alike. `ctdbng pnn` and `ctdbng-cluster status` ask a running cluster (started here).
import { spawnSync } from 'node:child_process';
import { benchBin, clusterBin, ctdbngBin } from './cli-paths.js';
import { commandLine, secondsSince, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { median } from './stats.js';

/** This benchmark's cluster (node port P, recoverd P+1, metrics P+2..P+4): after common.ts's. */
export const cliStartPortBase = 25_500;
/** `ctdbng pnn` median over bare node's median at most (issue 12). */
export const cliStartRatioMax = 1.5;

export interface StartCommand {
  label: string;
  /** Arguments of process.execPath. */
  argv: string[];
}

export interface StartTimes {
  label: string;
  samplesMs: number[];
  minMs: number;
  medianMs: number;
  maxMs: number;
}

/** Runs every command `rounds` times, one of each per round; each must exit 0. */
export function timeStarts(commands: readonly StartCommand[], rounds: number, env: NodeJS.ProcessEnv): StartTimes[] {
  const samples = commands.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of commands.entries()) {
      const t0 = process.hrtime.bigint();
      const run = spawnSync(process.execPath, c.argv, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (run.status !== 0) throw new Error(`${c.label} exited ${run.status ?? run.signal}: ${run.stderr.trim()}`);
      samples[i]!.push(ms);
    }
  }
  return commands.map((c, i) => {
    const s = samples[i]!;
    return { label: c.label, samplesMs: s, minMs: Math.min(...s), medianMs: median(s), maxMs: Math.max(...s) };
  });
}

/** The commands timed: bare node first (the floor), then each tool. */
export function startCommands(clusterBase: string): StartCommand[] {
  return [
    { label: "node -e ''", argv: ['-e', ''] },
    { label: 'ctdbng pnn', argv: [ctdbngBin(), 'pnn'] },
    { label: 'ctdbng --help', argv: [ctdbngBin(), '--help'] },
    { label: 'ctdbng-cluster status', argv: [clusterBin(), 'status', '--base', clusterBase] },
    { label: 'ctdbng-cluster --help', argv: [clusterBin(), '--help'] },
    { label: 'ctdbng-bench --help', argv: [benchBin(), '--help'] },
  ];
}

export async function cliStartBench(o: CommonOptions, so: { rounds: number; portBase?: number }): Promise<BenchResult> {
  const portBase = so.portBase ?? cliStartPortBase;
  const t0 = process.hrtime.bigint();
  o.log(`# cli-start: ${so.rounds} rounds of each command, in turn, next to bare node`);
  const times = await withCluster(o, 'cli-start', portBase, async (cluster) => {
    const env = { ...process.env, CTDBNG_BASE: cluster.nodeBase(0) };
    return timeStarts(startCommands(cluster.base), so.rounds, env);
  });
  const floor = times[0]!;
  const pnn = times[1]!;
  const figures: Figure[] = [
    { label: "`ctdbng pnn` median / bare `node -e ''` median", value: pnn.medianMs / floor.medianMs, unit: 'ratio', target: { op: '<=', value: cliStartRatioMax }, headline: true },
    ...times.map((t): Figure => ({ label: `${t.label}, median`, value: t.medianMs * 1_000, unit: 'us', headline: t === pnn || t === floor })),
  ];
  const notes = times.map((t) => `${t.label}: min ${t.minMs.toFixed(1)} ms, median ${t.medianMs.toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms (${t.samplesMs.length} runs)`);
  const args = ['cli-start', '--rounds', String(so.rounds), '--port-base', String(portBase)];
  return { bench: 'cli-start', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
