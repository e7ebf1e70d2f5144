// Pid files of a node's processes (run/<proc>.pid) and the checks on them. A pid is only taken
// for ours when /proc/<pid>/cmdline names our script, so a stale file whose pid was reused by
// another process is never signalled.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** Atomic (write, then rename): the launcher and the supervisor both write run/supervisor.pid, and
 * a reader must never see the empty file a plain rewrite shows for a moment. */
export function writePid(path: string, pid: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

export function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // no pid file: the process was never started or has been cleaned up
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

export function removePid(path: string): void {
  rmSync(path, { force: true });
}

/** Exists and is not a zombie (an exited process whose parent, maybe init in a container, has
 * not reaped it yet: waiting on it would wait for the reaper, not for the process). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is not ours to signal, which is alive too.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // no /proc (not Linux), or gone meanwhile: kill(0) decided
  }
  // "pid (comm) S ...": the state follows the last ')' (comm may contain one).
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

/** Alive and running a command line containing `marker` (where /proc exists). */
export function isOurs(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc (not Linux): trust the pid file
  }
  return cmdline.includes(marker);
}

/** The pid in `path` when that process is alive and ours. */
export function livePid(path: string, marker: string): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && isOurs(pid, marker) ? pid : undefined;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone (ESRCH): what the caller wanted.
  }
}

/** Waits until none of `pids` is alive, polling; false when `deadlineMs` (Date.now) passes first. */
export async function waitGone(pids: readonly number[], deadlineMs: number, pollMs = 20): Promise<boolean> {
  while (pids.some(isAlive)) {
    if (Date.now() >= deadlineMs) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return true;
}
