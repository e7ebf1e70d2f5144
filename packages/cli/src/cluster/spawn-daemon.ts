// Starting one daemon process of a node for the supervisor: `process.execPath [flags] <bin>` with
// CTDBNG_BASE=<node dir>, stdout and stderr appended to log/<daemon>.log.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { daemonBinPath, daemonSpec } from './daemons.js';
import { nodePaths } from './paths.js';
import type { ChildExit, ChildHandle } from './supervisor.js';

/**
 * Extra `node` flags for every daemon, from CTDBNG_DAEMON_NODE_ARGS (space-separated; say
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS does not allow): for profiling.
 */
export function daemonNodeArgs(env: NodeJS.ProcessEnv): string[] {
  return (env.CTDBNG_DAEMON_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

export function spawnDaemon(dir: string, daemon: string, env: NodeJS.ProcessEnv): ChildHandle {
  const spec = daemonSpec(daemon);
  if (spec === undefined) throw new Error(`unknown daemon '${daemon}'`);
  const bin = daemonBinPath(spec);
  // The socket of a dbd that died without cleaning up: removed so that "the socket exists"
  // means "this dbd has bound it" to whoever polls for it.
  if (daemon === 'dbd') rmSync(nodePaths.socket(dir), { force: true });
  const fd = openSync(nodePaths.logFile(dir, daemon), 'a');
  try {
    const child = spawn(process.execPath, [...spec.nodeArgs, ...daemonNodeArgs(env), bin], { cwd: dir, env: { ...env, CTDBNG_BASE: dir }, stdio: ['ignore', fd, fd] });
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    return { pid: child.pid, kill: (sig) => void child.kill(sig), exited };
  } finally {
    closeSync(fd);
  }
}
