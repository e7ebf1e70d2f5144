// Every bin of every workspace package is a committed file, so `npm install` on a fresh clone
// links it into node_modules/.bin: npm links bins before the root `prepare` builds dist/ and
// silently skips a bin whose file is missing (then `npx ctdbng` asks the registry and gets 404).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../../..');

interface PackageJson {
  name: string;
  bin?: Record<string, string>;
}

function workspaceBins(): { pkg: string; dir: string; name: string; target: string }[] {
  const out: { pkg: string; dir: string; name: string; target: string }[] = [];
  for (const entry of readdirSync(join(repoRoot, 'packages'))) {
    const dir = join(repoRoot, 'packages', entry);
    const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const [name, target] of Object.entries(json.bin ?? {})) out.push({ pkg: json.name, dir, name, target });
  }
  return out;
}

const bins = workspaceBins();

describe('workspace bins', () => {
  test('the user-facing bins are all declared', () => {
    expect(bins.map((b) => b.name).sort()).toEqual(['ctdbng', 'ctdbng-bench', 'ctdbng-cluster', 'ctdbng-dbd', 'ctdbng-recoverd', 'ctdbng-vacuumd']);
  });

  test.each(bins)('$name is a committed, executable file outside dist/', ({ dir, target }) => {
    const path = join(dir, target);
    expect(target.startsWith('./dist/') || target.startsWith('dist/')).toBe(false);
    accessSync(path, constants.X_OK);
    expect(readFileSync(path, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const tracked = execFileSync('git', ['ls-files', '--', path], { cwd: repoRoot, encoding: 'utf8' }).trim();
    expect(tracked, `${path} is not tracked by git`).not.toBe('');
  });

  test.each(bins)('node_modules/.bin/$name links to it', ({ dir, name, target }) => {
    expect(realpathSync(join(repoRoot, 'node_modules', '.bin', name))).toBe(realpathSync(join(dir, target)));
  });

  test('npx ctdbng --help runs the built CLI from the repository root', () => {
    const r = spawnSync('npx', ['--no-install', 'ctdbng', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: ctdbng/m);
  });
});
