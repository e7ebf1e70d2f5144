// The built `ctdbng` and `ctdbng-cluster` bins keep the exit-status contract (DESIGN §10):
// 2 and one line for a usage error, 1 and one line when dbd cannot be reached.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const empty = mkdtempSync(join(tmpdir(), 'ctdbng-cli-bin-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(dist, bin), ...args], {
    env: { ...process.env, CTDBNG_BASE: empty, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('ctdbng bin', () => {
  test('an unknown command exits 2 with one line on stderr', () => {
    const r = run('ctdbng-main.js', ['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("ctdbng: unknown command 'frobnicate'\n");
    expect(r.out).toBe('');
  });

  test('a missing argument exits 2 with one line on stderr', () => {
    const r = run('ctdbng-main.js', ['readkey', 'x.db']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ctdbng: [^\n]*'key'[^\n]*\n$/);
  });

  test('a node dir without a running dbd exits 1 with one line', () => {
    const r = run('ctdbng-main.js', ['status']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ctdbng: cannot reach dbd: no socket at [^\n]+\n$/);
  });

  test('a socket nobody answers on exits 1 with one line after the time limit', () => {
    const sock = join(empty, 'silent.sock');
    writeFileSync(sock, '');
    const r = run('ctdbng-main.js', ['--socket', sock, '-T', '0.2', 'pnn']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ctdbng: [^\n]*did not answer[^\n]*\n$/);
  });
});

describe('ctdbng-cluster bin', () => {
  test('an unknown command exits 2 with one line', () => {
    const r = run('cluster-main.js', ['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("ctdbng-cluster: unknown command 'frobnicate'\n");
  });

  test('down and status on an empty base succeed and report nothing running', () => {
    const base = join(empty, 'cluster');
    expect(run('cluster-main.js', ['down', '--base', base]).code).toBe(0);
    const s = run('cluster-main.js', ['status', '--base', base, '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toEqual({ base, nodes: [] });
  });

  test('kill of a daemon that is not running exits 1 with one line', () => {
    const r = run('cluster-main.js', ['kill', '0', 'dbd', '--base', join(empty, 'cluster')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('ctdbng-cluster: dbd of node 0 is not running\n');
  });
});
