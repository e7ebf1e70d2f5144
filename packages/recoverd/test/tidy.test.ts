// The recoverd core is a state machine fed events — timers, recoverd messages, dbd events, the
// lock helper, answers to its requests — with time, timers, randomness and I/O through its
// RecoverdIo only (DESIGN §12, STYLE §2): nothing in src/core may wait or reach for the real ones.
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { coreViolations } from '../../../test/helpers/tidy.js';

test('src/core uses no async, await, Promise, real timer, host clock, Math.random, process or zeromq', () => {
  expect(coreViolations(fileURLToPath(new URL('../src/core', import.meta.url)))).toEqual([]);
});

test('the check finds what the shell uses (it can fail)', () => {
  const found = coreViolations(fileURLToPath(new URL('../src/shell', import.meta.url))).join('\n');
  for (const why of ['async: a core never waits', 'await: a core never waits', 'Promise: requests are answered', 'real timers: use CoreTimers', 'the host clock: use CoreClock', 'process: the shell owns it', 'zeromq: the shell owns the sockets']) {
    expect(found).toContain(why);
  }
});
