// The dbd core is a state machine fed events, with time, timers, randomness and I/O through its
// CoreIo only (DESIGN §12): nothing in src/core may reach for the real ones.
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { coreViolations } from '../../../test/helpers/tidy.js';

test('src/core uses no async, promise, real timer, host clock, Math.random, process or zeromq', () => {
  expect(coreViolations(fileURLToPath(new URL('../src/core', import.meta.url)))).toEqual([]);
});

test('the check finds what the shell uses (it can fail)', () => {
  const found = coreViolations(fileURLToPath(new URL('../src/shell', import.meta.url))).join('\n');
  expect(found).toMatch(/process: the shell owns it/);
  expect(found).toMatch(/zeromq: the shell owns the sockets/);
});
