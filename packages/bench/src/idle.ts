// idle: what a cluster that does nothing costs. A fresh N-node cluster (3 by default; 16 for the
// second row of issue 12) is left alone for `--settle` seconds, then the CPU time of every node's
// process tree (its supervisor and daemons, from /proc) is read over `--windows` windows of
// `--window` seconds. Figures: percent of one core per node, and percent of the machine's cores
// for the whole cluster (median of the windows, with min and max).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { commandLine, portBases, secondsSince, withCluster, type CommonOptions } from './common.js';
import { sleep } from './cluster-ops.js';
import { treeCpu, type CpuWindow } from './proc-cpu.js';
import type { BenchResult, Figure } from './report.js';
import { spreadOf } from './stats.js';

export interface IdleOptions { nodes: number; settleSec: number; windowSec: number; windows: number; portBase?: number }

/** Targets of issue 12: 3 nodes ≤ 1 % of one core per node; 16 nodes ≤ 15 % of 2 cores. */
const perNodeTarget: Record<number, number> = { 3: 1 };
const wholeTarget: Record<number, number> = { 16: 15 };

/** Measures `windows` windows over the trees of `roots`; returns each window. */
export async function idleWindows(roots: readonly number[], o: Pick<IdleOptions, 'windowSec' | 'windows'>): Promise<CpuWindow[]> {
  const out: CpuWindow[] = [];
  for (let i = 0; i < o.windows; i++) out.push(await treeCpu(roots, o.windowSec * 1000));
  return out;
}

/** The figures of one side (ids `idle.N.*`, shared with CTDB's; `ours` adds targets and ctdbRef). */
export function idleFigures(nodes: number, windows: readonly CpuWindow[], ours: boolean): Figure[] {
  const cores = availableParallelism();
  const perNode = spreadOf(windows.map((w) => w.percentOfCore / nodes));
  const whole = spreadOf(windows.map((w) => w.percentOfCore / cores));
  const ref = (id: string): Pick<Figure, 'ctdbRef'> => (ours ? { ctdbRef: id } : {});
  const t1 = perNodeTarget[nodes];
  const t2 = wholeTarget[nodes];
  return [
    { id: `idle.${nodes}.per-node`, label: `${nodes}-node cluster idle: CPU per node, % of one core`, value: perNode.median, unit: '%', spread: perNode, headline: true,
      ...ref(`idle.${nodes}.per-node`), ...(ours && t1 !== undefined ? { target: { op: '<=' as const, value: t1 } } : {}) },
    { id: `idle.${nodes}.whole`, label: `${nodes}-node cluster idle: CPU of all nodes, % of the ${cores} cores`, value: whole.median, unit: '%', spread: whole, headline: true,
      ...ref(`idle.${nodes}.whole`), ...(ours && t2 !== undefined ? { target: { op: '<=' as const, value: t2 } } : {}) },
  ];
}

export async function idleBench(o: CommonOptions, io: IdleOptions): Promise<BenchResult> {
  const name = io.nodes === 3 ? 'idle' : `idle-${io.nodes}`;
  const portBase = io.portBase ?? (io.nodes === 3 ? portBases.idle : portBases['idle-16']);
  const args = ['idle', '--nodes', String(io.nodes), '--settle', String(io.settleSec), '--window', String(io.windowSec), '--windows', String(io.windows), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  o.log(`# ${name}: ${io.nodes} nodes left alone ${io.settleSec} s, then CPU over ${io.windows} x ${io.windowSec} s`);
  let figures: Figure[] = [];
  const notes: string[] = [];
  await withCluster(o, name, portBase, async (cluster) => {
    await sleep(io.settleSec * 1000);
    const roots = Array.from({ length: cluster.nodes }, (_, p) => Number(readFileSync(join(cluster.nodeBase(p), 'run', 'supervisor.pid'), 'utf8').trim()));
    const w = await idleWindows(roots, io);
    figures = idleFigures(io.nodes, w, true);
    notes.push(`windows: ${w.map((x) => `${x.cpuSec.toFixed(2)} CPU-s in ${x.wallSec.toFixed(1)} s over ${x.processes} processes`).join('; ')}`);
  }, { nodes: io.nodes });
  return { bench: name, command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
