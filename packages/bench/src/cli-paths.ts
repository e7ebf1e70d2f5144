// Where the bins of @ctdbng/cli are: the launchers named in its package.json "bin" (what `npx
// ctdbng` and a PATH entry run), so that a CLI row measures what a user starts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function cliRoot(): string {
  // import.meta.resolve gives the package's main file (dist/index.js); its package.json is above.
  let dir = dirname(fileURLToPath(import.meta.resolve('@ctdbng/cli')));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === '@ctdbng/cli') return dir;
    } catch {
      // no package.json at this level: look one up
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the package.json of @ctdbng/cli');
}

function binOf(name: string): string {
  const root = cliRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  const rel = pkg.bin?.[name];
  if (rel === undefined) throw new Error(`@ctdbng/cli has no bin ${name}`);
  return join(root, rel);
}

/** `ctdbng-cluster` (the launcher file). */
export function clusterBin(): string {
  return binOf('ctdbng-cluster');
}

/** `ctdbng` (the launcher file). */
export function ctdbngBin(): string {
  return binOf('ctdbng');
}

/** How to start a launcher: itself when it has a shebang (as a shell does), else through this node. */
export function binCommand(path: string): { cmd: string; args: string[] } {
  const head = readFileSync(path, 'utf8').slice(0, 2);
  return head === '#!' ? { cmd: path, args: [] } : { cmd: process.execPath, args: [path] };
}
