// The same seeds give byte-identical traces (issue 11): the first 1,000 schedules of the CI seed
// list (parts 1 and 2, test/sim/seed-list.ts) run in two separate processes at once, each
// checking every invariant and printing a sha256 over every trace; both must pass and the two
// digests agree. Separate processes, so that nothing carried over inside one process (a
// module's counter, a cache) could make two runs agree by accident or differ only there. The
// two runs are also the CI list's first half: a failure prints its seed, replay command and
// shrunk trace.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { ciSeedBase } from './seed-list.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function digestOf(schedules: number, base: number): Promise<string> {
  return new Promise((resolveDigest, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--schedules', String(schedules), '--base', String(base), '--digest'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /traces sha256 ([0-9a-f]{64})/.exec(out);
      if (code !== 0 || m === null) reject(new Error(`sim exited ${code}:\n${out.slice(-4000)}\n${err.slice(-2000)}`));
      else resolveDigest(m[1]!);
    });
  });
}

test('the first 1,000 schedules of the CI list keep every invariant and give byte-identical traces in two runs', async () => {
  const [a, b] = await Promise.all([digestOf(1000, ciSeedBase), digestOf(1000, ciSeedBase)]);
  expect(a).toBe(b);
}, 900_000);
