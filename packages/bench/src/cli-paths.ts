// Where the user-facing bins are: the committed launchers of packages/*/bin, which run the tools'
// bundles (what `npx ctdbng` runs), found beside the packages' public entries.
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
