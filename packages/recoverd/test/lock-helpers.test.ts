// The cluster lock helpers (DESIGN §5.1): the built-in file helper (two helpers on one file:
// the second gets "1"), the helper runner, and the etcd helper when etcd is installed.
// The helpers run from dist/ (npm test builds first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '@ctdbng/common';
import { HelperLock } from '../src/shell/lock-process.js';
import { haveTools, systemTools } from '../../../test/helpers/system-tools.js';

const dist = fileURLToPath(new URL('../dist/shell/', import.meta.url));
const fileHelper = join(dist, 'lock-file-helper.js');
const etcdHelper = join(dist, 'lock-etcd-helper.js');
const children: ChildProcess[] = [];

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recoverd-lock-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a helper in its own process group with a stdin pipe; resolves its first output line. */
function helper(args: string[]): { child: ChildProcess; first: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  children.push(child);
  const first = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', () => resolve(out.trim()));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, first, exit };
}

function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

afterEach(() => {
  for (const c of children.splice(0)) killGroup(c);
});

describe('lock-file-helper', () => {
  it('two helpers on one file: the first prints 0, the second prints 1 and exits 1', async () => {
    const file = join(tmp(), 'sub', 'lock');
    const a = helper([fileHelper, file]);
    expect(await a.first).toBe('0');
    const b = helper([fileHelper, file]);
    expect(await b.first).toBe('1');
    expect(await b.exit).toBe(1);
  });

  it('the lock is free again once the holder is killed or its stdin closes', async () => {
    const file = join(tmp(), 'lock');
    const a = helper([fileHelper, file]);
    expect(await a.first).toBe('0');
    killGroup(a.child);
    await a.exit;
    const b = helper([fileHelper, file]);
    expect(await b.first).toBe('0');
    b.child.stdin!.end(); // recoverd gone: EOF on the pipe
    await b.exit;
    const c = helper([fileHelper, file]);
    expect(await c.first).toBe('0');
  });
});

describe('HelperLock', () => {
  it('reports held, then a second runner on the same lock reports it lost; release frees the lock', async () => {
    const file = join(tmp(), 'lock');
    const events: string[] = [];
    const wait = async (what: string): Promise<void> => {
      await expect.poll(() => events.includes(what), { timeout: 5_000 }).toBe(true);
    };
    const spec = { kind: 'command' as const, command: `${process.execPath} ${fileHelper} ${file}` };
    const a = new HelperLock(spec, 5, silentLogger(), { onHeld: () => events.push('a held'), onLost: (why) => events.push(`a lost ${why}`) });
    const b = new HelperLock(spec, 5, silentLogger(), { onHeld: () => events.push('b held'), onLost: () => events.push('b lost') });
    onTestFinished(() => {
      a.release();
      b.release();
    });
    a.take();
    await wait('a held');
    b.take();
    await wait('b lost');
    a.release();
    b.take();
    await wait('b held');
    expect(events.filter((e) => e.startsWith('a lost'))).toEqual([]);
  });
});

describe.skipIf(!haveTools('the etcd lock helper test', [systemTools.etcd]))('lock-etcd-helper (etcd installed)', () => {
  it('the first helper holds the key, the second gets 1; after the first is stopped the key is free', async () => {
    const dir = tmp();
    const port = 23790 + Math.floor(Math.random() * 100);
    const url = `http://127.0.0.1:${port}`;
    const etcd = spawn('etcd', ['--data-dir', join(dir, 'etcd'), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', `http://127.0.0.1:${port + 1000}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1000}`, '--initial-cluster', `default=http://127.0.0.1:${port + 1000}`], { stdio: 'ignore', detached: true });
    children.push(etcd);
    await expect.poll(async () => (await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)), { timeout: 20_000, interval: 200 }).toBe(true);
    const a = helper([etcdHelper, url, '/ctdbng/lock', '3']);
    expect(await a.first).toBe('0');
    const b = helper([etcdHelper, url, '/ctdbng/lock', '3']);
    expect(await b.first).toBe('1');
    expect(await b.exit).toBe(1);
    a.child.kill('SIGTERM'); // revokes the lease: the key goes at once
    expect(await a.exit).toBe(0);
    const c = helper([etcdHelper, url, '/ctdbng/lock', '3']);
    expect(await c.first).toBe('0');
    // Keepalives hold the lock past its TTL.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(c.child.exitCode).toBeNull();
    expect(existsSync(join(dir, 'etcd'))).toBe(true);
  }, 60_000);
});
