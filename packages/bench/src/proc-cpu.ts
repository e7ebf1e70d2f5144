// CPU time of process trees, from /proc (Linux): used for the idle cost of a cluster, the same way
// for ctdb-ng (each node's supervisor and its daemons) and CTDB (each ctdbd and its helpers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicksPerSec: number | undefined;

/** sysconf(_SC_CLK_TCK): the unit of utime/stime in /proc/<pid>/stat (100 on Linux nearly always). */
export function clockTicks(): number {
  if (clockTicksPerSec === undefined) {
    try {
      clockTicksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSec = 100; // no getconf: Linux's USER_HZ
    }
  }
  return clockTicksPerSec;
}

/** utime + stime of a process (all its threads) in ticks; undefined when it is gone. */
export function parseStatTicks(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

export function cpuTicks(pid: number): number | undefined {
  try {
    return parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** `pid` and every descendant (through /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  // Bounded: a process tree on one host holds far fewer than this many processes.
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const p = stack.pop()!;
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c !== '') stack.push(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

export interface CpuWindow {
  /** CPU seconds used by the trees over the window. */
  cpuSec: number;
  wallSec: number;
  /** cpuSec / wallSec × 100: percent of one core. */
  percentOfCore: number;
  processes: number;
}

/** CPU used by the trees of `roots` over `windowMs` (processes that end meanwhile count up to their last read). */
export async function treeCpu(roots: readonly number[], windowMs: number): Promise<CpuWindow> {
  const pids = roots.flatMap(processTree);
  const before = new Map<number, number>();
  for (const p of pids) {
    const t = cpuTicks(p);
    if (t !== undefined) before.set(p, t);
  }
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, windowMs));
  let ticks = 0;
  for (const [p, b] of before) ticks += (cpuTicks(p) ?? b) - b;
  const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSec = ticks / clockTicks();
  return { cpuSec, wallSec, percentOfCore: (cpuSec / wallSec) * 100, processes: before.size };
}
