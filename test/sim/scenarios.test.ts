// The named scenarios (test/sim/scenarios.ts): each fault lands where it was meant to, and every
// invariant holds after every step, through the heal and the last writes.
import { expect, test } from 'vitest';
import { failureReport } from './report.js';
import { runScenario, scenarios } from './scenarios.js';

test.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, sc) => {
  const r = runScenario(sc);
  expect(r.missed).toBe('');
  expect(r.ok ? '' : failureReport(r)).toBe('');
});
