// The same seeds give byte-identical traces (issue 11): 1,000 schedules run in two separate
// processes at once, each printing a sha256 over every trace; the two must agree. Separate
// processes, so that nothing carried over inside one process (a module's counter, a cache)
// could make two runs agree by accident or differ only there.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

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

test('1,000 schedules give byte-identical traces in two runs with the same seeds', async () => {
  const [a, b] = await Promise.all([digestOf(1000, 2_000_000), digestOf(1000, 2_000_000)]);
  expect(a).toBe(b);
}, 600_000);
