// Where the bins of @ctdbng/cli are (their files next to its public entry).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function cliDist(): string {
  return dirname(fileURLToPath(import.meta.resolve('@ctdbng/cli')));
}

/** `ctdbng-cluster` (packages/cli/dist/cluster-main.js). */
export function clusterBin(): string {
  return join(cliDist(), 'cluster-main.js');
}

/** `ctdbng` (packages/cli/dist/ctdbng-main.js). */
export function ctdbngBin(): string {
  return join(cliDist(), 'ctdbng-main.js');
}
