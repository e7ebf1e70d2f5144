// The supervisor starts each daemon as `node [its flags] [CTDBNG_DAEMON_NODE_ARGS] <bin>`:
// vacuumd with the V8 flags that keep its memory down (issue 12), every daemon with the
// profiling flags of the environment variable.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { daemonSpec, vacuumdNodeArgs } from '../src/cluster/daemons.js';
import { spawnDaemon } from '../src/cluster/spawn-daemon.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function nodeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-daemon-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'log'));
  return dir;
}

describe('spawnDaemon', () => {
  test('vacuumd runs with its V8 flags (lite mode, 1 MiB semi-spaces, one V8 worker), then those of CTDBNG_DAEMON_NODE_ARGS', async () => {
    const dir = nodeDir();
    const probe = join(dir, 'probe.cjs');
    // Preloaded before the bin: records the flags and ends the process before vacuumd starts.
    writeFileSync(probe, `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'argv.json'))}, JSON.stringify(process.execArgv)); process.exit(0);\n`);
    const child = spawnDaemon(dir, 'vacuumd', { ...process.env, CTDBNG_DAEMON_NODE_ARGS: `--require ${probe}` });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8'))).toEqual([...vacuumdNodeArgs, '--require', probe]);
    expect(vacuumdNodeArgs).toEqual(['--lite-mode', '--max-semi-space-size=1', '--v8-pool-size=1']);
  });

  test('node accepts vacuumd\'s flags: without a config the daemon itself refuses (exit 1), not node (exit 9)', async () => {
    const dir = nodeDir();
    const child = spawnDaemon(dir, 'vacuumd', { ...process.env, CTDBNG_BASE: dir });
    expect((await child.exited).code).toBe(1);
    expect(readFileSync(join(dir, 'log', 'vacuumd.log'), 'utf8')).toContain('ctdbng-vacuumd: no ctdbng.conf');
  });

  test('dbd and recoverd run without extra flags', () => {
    expect(daemonSpec('dbd')!.nodeArgs).toEqual([]);
    expect(daemonSpec('recoverd')!.nodeArgs).toEqual([]);
  });
});
