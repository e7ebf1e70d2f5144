// The daemons of one node (DESIGN §11), one row each: the supervisor starts every row.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DaemonSpec {
  /** The name in `kill PNN DAEMON`, run/<name>.pid and log/<name>.log. */
  name: string;
  /** The package whose `bin` entry is run with process.execPath. */
  pkg: string;
  bin: string;
  /** `node` flags before the script (docker/entrypoint.sh passes the same). */
  nodeArgs: readonly string[];
}

/**
 * vacuumd's V8 (issue 12: resident memory ≤ 60 MiB at peak while purging 10,000): its work is
 * I/O bound (a few requests and one state-file transaction per batch), so it runs without the
 * optimizing compilers (`--lite-mode`: no optimized code, no feedback vectors until needed), a
 * young generation of at most 1 MiB per semi-space (the default grows to 16 MiB under a purge's
 * allocation rate) and one V8 worker thread. Measured in packages/bench/README.md (vacuumd
 * memory): the purge takes as long, and the peak is about 10 MiB lower.
 */
export const vacuumdNodeArgs: readonly string[] = ['--lite-mode', '--max-semi-space-size=1', '--v8-pool-size=1'];

const dbd: DaemonSpec = { name: 'dbd', pkg: '@ctdbng/dbd', bin: 'ctdbng-dbd', nodeArgs: [] };
const recoverd: DaemonSpec = { name: 'recoverd', pkg: '@ctdbng/recoverd', bin: 'ctdbng-recoverd', nodeArgs: [] };
const vacuumd: DaemonSpec = { name: 'vacuumd', pkg: '@ctdbng/vacuumd', bin: 'ctdbng-vacuumd', nodeArgs: vacuumdNodeArgs };

/** Every daemon of a node, in start order; the recovery daemon installs generation and vnnmap. */
export const DAEMONS: readonly DaemonSpec[] = [dbd, recoverd, vacuumd];

export function daemonSpec(name: string): DaemonSpec | undefined {
  return DAEMONS.find((d) => d.name === name);
}

export class DaemonBinError extends Error {
  override readonly name = 'DaemonBinError';
}

/**
 * The script of a daemon's bin. The daemon packages export only '.', so require.resolve of
 * '<pkg>/package.json' is refused; instead this walks up from this file to the nearest
 * node_modules/<pkg>/package.json (what Node's resolution would find, the npm workspace
 * symlink in the repository) and reads its `bin`.
 */
export function daemonBinPath(d: DaemonSpec, from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkgJson = join(dir, 'node_modules', d.pkg, 'package.json');
    if (existsSync(pkgJson)) return binOf(pkgJson, d);
    if (dirname(dir) === dir) break;
  }
  throw new DaemonBinError(`cannot find package ${d.pkg} above ${from} (run npm install at the repository root)`);
}

function binOf(pkgJson: string, d: DaemonSpec): string {
  const parsed: unknown = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const bin = typeof parsed === 'object' && parsed !== null ? (parsed as { bin?: unknown }).bin : undefined;
  const rel = typeof bin === 'object' && bin !== null ? (bin as Record<string, unknown>)[d.bin] : undefined;
  if (typeof rel !== 'string') throw new DaemonBinError(`${pkgJson} has no bin '${d.bin}'`);
  return join(dirname(pkgJson), rel);
}
