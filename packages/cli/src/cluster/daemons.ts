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
}

const dbd: DaemonSpec = { name: 'dbd', pkg: '@ctdbng/dbd', bin: 'ctdbng-dbd' };
const recoverd: DaemonSpec = { name: 'recoverd', pkg: '@ctdbng/recoverd', bin: 'ctdbng-recoverd' };
const vacuumd: DaemonSpec = { name: 'vacuumd', pkg: '@ctdbng/vacuumd', bin: 'ctdbng-vacuumd' };

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
