// Timing a process from spawn to exit, the same way for `node -e ''`, `ctdbng …` and `ctdb …`, so
// that a CLI row and its floor, and ctdb-ng's CLI and CTDB's, are measured alike: spawnSync (the
// bench process does nothing else meanwhile), stdin closed, stdout piped or sent to /dev/null.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface SpawnRun {
  /** Spawn to exit, in milliseconds. */
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** 'null': stdout to /dev/null (as `cmd >/dev/null`); 'pipe' (default): captured. */
  stdout?: 'pipe' | 'null';
  timeoutMs?: number;
}

const spawnTimeoutMsDefault = 300_000;

export function timeSpawn(cmd: string, args: readonly string[], o: SpawnOptions = {}): SpawnRun {
  const devnull = o.stdout === 'null' ? openSync('/dev/null', 'w') : undefined;
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
      env: o.env ?? process.env,
      stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: o.timeoutMs ?? spawnTimeoutMsDefault,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error !== undefined) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
    return { ms, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  } finally {
    if (devnull !== undefined) closeSync(devnull);
  }
}

/** Floor (c): `node -e ''` (this node binary), `runs` times after one unmeasured start; ms each. */
export function nodeStartRuns(runs: number): number[] {
  timeSpawn(process.execPath, ['-e', '']);
  return Array.from({ length: runs }, () => {
    const r = timeSpawn(process.execPath, ['-e', '']);
    if (r.status !== 0) throw new Error(`node -e '' exited ${r.status}: ${r.stderr.trim()}`);
    return r.ms;
  });
}
