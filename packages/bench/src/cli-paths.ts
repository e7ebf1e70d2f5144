// Where the user-facing bins are: the committed launchers of packages/*/bin, which run the tools'
// bundles (what `npx ctdbng` runs), found beside the packages' public entries, so that a CLI row
// measures what a user starts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function packageDir(pkg: string): string {
  return join(dirname(createRequire(import.meta.url).resolve(pkg)), '..');
}

/** `ctdbng-cluster` (packages/cli/bin/ctdbng-cluster.js). */
export function clusterBin(): string {
  return join(packageDir('@ctdbng/cli'), 'bin', 'ctdbng-cluster.js');
}

/** `ctdbng` (packages/cli/bin/ctdbng.js). */
export function ctdbngBin(): string {
  return join(packageDir('@ctdbng/cli'), 'bin', 'ctdbng.js');
}

/** `ctdbng-bench` (packages/bench/bin/ctdbng-bench.js). */
export function benchBin(): string {
  return join(packageDir('@ctdbng/bench'), 'bin', 'ctdbng-bench.js');
}

/** How to start a launcher: itself when it has a shebang (as a shell does), else through this node. */
export function binCommand(path: string): { cmd: string; args: string[] } {
  const head = readFileSync(path, 'utf8').slice(0, 2);
  return head === '#!' ? { cmd: path, args: [] } : { cmd: process.execPath, args: [path] };
}
