// Starting, finding and stopping the supervisors of a local cluster (DESIGN §11).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DAEMONS, daemonBinPath } from './daemons.js';
import { nodePaths } from './layout.js';
import { livePid, removePid, signal, waitGone, writePid } from './pids.js';

/** What /proc/<pid>/cmdline of a supervisor contains. */
export const supervisorMarker = 'supervise-main.js';
/** How long `down` waits for supervisors after SIGTERM before SIGKILL (they wait 5 s for daemons). */
export const downGraceMs = 10_000;

/** dist/supervise-main.js; also when this module runs from src/ (a test runner on the sources). */
export function superviseMainPath(): string {
  const beside = fileURLToPath(new URL('../supervise-main.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../dist/supervise-main.js', import.meta.url));
}

/** Starts node `dir`'s supervisor detached (its own process group), output to log/supervisor.log. */
export function startSupervisor(dir: string, pnn: number, env: NodeJS.ProcessEnv): number {
  const fd = openSync(nodePaths.logFile(dir, 'supervisor'), 'a');
  try {
    const { CTDBNG_BASE: _unused, ...rest } = env;
    const child = spawn(process.execPath, [superviseMainPath(), '--base', dir, '--pnn', String(pnn)], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: rest,
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start the supervisor of node ${pnn}`);
    // The supervisor writes it too; writing it here first lets `down` find it at once.
    writePid(nodePaths.pidFile(dir, 'supervisor'), child.pid);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function supervisorPid(dir: string): number | undefined {
  return livePid(nodePaths.pidFile(dir, 'supervisor'), supervisorMarker);
}

export function daemonPid(dir: string, daemon: string): number | undefined {
  const spec = DAEMONS.find((d) => d.name === daemon);
  return spec === undefined ? undefined : livePid(nodePaths.pidFile(dir, daemon), daemonBinPath(spec));
}

/**
 * Stops the supervisors of `dirs`: SIGTERM (they stop their daemons), SIGKILL to the process
 * group after downGraceMs; then kills daemons left without a supervisor and removes pid files.
 */
export async function stopNodes(dirs: readonly string[]): Promise<void> {
  const pids = dirs.map(supervisorPid).filter((p): p is number => p !== undefined);
  for (const pid of pids) signal(pid, 'SIGTERM');
  if (!(await waitGone(pids, Date.now() + downGraceMs))) {
    for (const pid of pids) {
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
    }
  }
  const orphans: number[] = [];
  for (const dir of dirs) {
    for (const d of DAEMONS) {
      // A supervisor killed with SIGKILL leaves its daemons running.
      const pid = daemonPid(dir, d.name);
      if (pid !== undefined) {
        signal(pid, 'SIGKILL');
        orphans.push(pid);
      }
      removePid(nodePaths.pidFile(dir, d.name));
    }
    removePid(nodePaths.pidFile(dir, 'supervisor'));
  }
  await waitGone(orphans, Date.now() + downGraceMs);
}
