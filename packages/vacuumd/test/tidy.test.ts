// The vacuumd core is a state machine fed events, with its requests, timers and clock through
// VacuumIo only (DESIGN §12, STYLE §2): nothing in src/core may wait or reach for the real ones.
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { coreViolations } from '../../../test/helpers/tidy.js';

test('src/core uses no async, await, Promise, real timer, host clock, Math.random, process or zeromq', () => {
  expect(coreViolations(fileURLToPath(new URL('../src/core', import.meta.url)))).toEqual([]);
});

test('the check finds what the shell uses (it can fail)', () => {
  const found = coreViolations(fileURLToPath(new URL('../src/shell', import.meta.url))).join('\n');
  expect(found).toMatch(/async: a core never waits/);
  expect(found).toMatch(/await: a core never waits/);
  expect(found).toMatch(/Promise: requests are answered as reply events/);
  expect(found).toMatch(/real timers: use CoreTimers/);
  expect(found).toMatch(/the host clock: use CoreClock/);
  expect(found).toMatch(/process: the shell owns it/);
  expect(found).toMatch(/zeromq: the shell owns the sockets/);
});
