// The built `ctdbng` and `ctdbng-cluster` keep the exit-status contract (DESIGN §10): 2 and one
// line for a usage error, 1 and one line when dbd cannot be reached; dist/ and its bundle alike.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
/** The entries as tsc built them, and as packages/cli/scripts/bundle.mjs bundled them (what the bins run). */
const builds = [
  { build: 'dist', dir: dist, ext: 'js' },
  { build: 'bundle', dir: join(dist, 'bundle'), ext: 'cjs' },
];
const empty = mkdtempSync(join(tmpdir(), 'ctdbng-cli-bin-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function runIn(dir: string, bin: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(dir, bin), ...args], {
    env: { ...process.env, CTDBNG_BASE: empty, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each(builds)('ctdbng ($build)', ({ dir, ext }) => {
  const run = (bin: string, args: string[], env: Record<string, string> = {}) => runIn(dir, bin.replace(/\.js$/, `.${ext}`), args, env);

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

describe.each(builds)('ctdbng-cluster ($build)', ({ dir, ext }) => {
  const run = (bin: string, args: string[], env: Record<string, string> = {}) => runIn(dir, bin.replace(/\.js$/, `.${ext}`), args, env);

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

describe('the committed bin', () => {
  /** A package with the real bin/ctdbng.js, and stand-ins for its dist/ entry and bundle that print which ran. */
  function fakePackage(o: { bundle: boolean; bundleNewer: boolean }): string {
    const pkg = mkdtempSync(join(empty, 'pkg-'));
    mkdirSync(join(pkg, 'bin'));
    mkdirSync(join(pkg, 'dist', 'bundle'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
    for (const f of ['ctdbng.js', 'package.json']) copyFileSync(fileURLToPath(new URL(`../bin/${f}`, import.meta.url)), join(pkg, 'bin', f));
    writeFileSync(join(pkg, 'dist', 'ctdbng-main.js'), "process.stdout.write('dist');");
    writeFileSync(join(pkg, 'dist', '.tsbuildinfo'), '');
    const bundleFile = join(pkg, 'dist', 'bundle', 'ctdbng-main.cjs');
    if (o.bundle) writeFileSync(bundleFile, "process.stdout.write('bundle');");
    const [older, newer] = [new Date(Date.now() - 60_000), new Date()];
    utimesSync(join(pkg, 'dist', '.tsbuildinfo'), older, o.bundleNewer ? older : newer);
    if (o.bundle) utimesSync(bundleFile, older, o.bundleNewer ? newer : older);
    return pkg;
  }

  test.each([
    { case: 'a bundle made after dist/', bundle: true, bundleNewer: true, runs: 'bundle' },
    { case: 'dist/ rebuilt by tsc -b after the bundle', bundle: true, bundleNewer: false, runs: 'dist' },
    { case: 'no bundle', bundle: false, bundleNewer: false, runs: 'dist' },
  ])('with $case it runs the $runs', ({ bundle, bundleNewer, runs }) => {
    const r = runIn(join(fakePackage({ bundle, bundleNewer }), 'bin'), 'ctdbng.js', []);
    expect(r.err).toBe('');
    expect(r.out).toBe(runs);
  });
});
