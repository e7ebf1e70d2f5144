// dbd's WAL checkpointer (packages/dbd/src/shell/checkpointer.ts): its worker thread starts with the
// first db file, so a dbd with no db attached — every dbd at start — runs no second V8 isolate
// (issue 12: start-up CPU and idle wake-ups).
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Checkpointer } from '../src/shell/checkpointer.js';

const options = {
  intervalMs: 20, busyIntervalMs: 5, restartFramesMin: 1000, busyFramesMin: 100,
  restartTriesMax: 2, restartRetryMs: 0.05, busyMs: 5, walBytesMax: 1 << 20,
};
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function checkpointer(): Checkpointer {
  const c = new Checkpointer(createRequire(import.meta.url).resolve('better-sqlite3'), options);
  cleanups.push(() => c.close());
  return c;
}

describe('checkpointer', () => {
  test('no worker thread until a db file is given; an empty list starts none', () => {
    const c = checkpointer();
    expect(c.started).toBe(false);
    c.setFiles([]);
    expect(c.started).toBe(false);
  });

  test('the first db file starts the worker thread', () => {
    const c = checkpointer();
    c.setFiles([{ path: join(tmpdir(), 'checkpointer-none.sqlite'), persistent: false }]);
    expect(c.started).toBe(true);
  });
});
