// Cross-process exclusion of shared access (DESIGN §2.2): two processes incrementing one record
// through lock/store+unlock lose no update.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished, test } from 'vitest';
import { fencedPair, incarnation, key } from './helpers.js';

const script = fileURLToPath(new URL('./fixtures/increment.mjs', import.meta.url));

interface Incrementer {
  ready: Promise<void>;
  go(): void;
  exit: Promise<{ code: number | null; output: string }>;
}

function startIncrementer(path: string, count: number): Incrementer {
  const child = fork(script, [path, '0', String(incarnation), 'counter', String(count)], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exit = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    exit.then((r) => reject(new Error(`incrementer exited before ready: ${r.output}`)), reject);
  });
  return { ready, go: () => child.send('go'), exit };
}

test('two processes incrementing one record 300 times each through shared access end at 600', async () => {
  const { db, sa, path } = fencedPair();
  sa.close(); // only the children use shared access here
  db.records.put(key('counter'), { rsn: 1, dmaster: 0, flags: 0 }, key('0'));

  const children = [startIncrementer(path, 300), startIncrementer(path, 300)];
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  const results = await Promise.all(children.map((c) => c.exit));

  for (const r of results) expect(r.code, r.output).toBe(0);
  expect(db.records.get(key('counter'))?.data.toString()).toBe('600');
  expect(db.locks.get(key('counter'))).toBeUndefined();
}, 30_000);
