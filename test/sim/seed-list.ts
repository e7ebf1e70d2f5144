// The seeds `npm test` runs (issue 11): 2,000 random schedules from fixed seeds, so that a failure
// in CI replays with `npm run sim -- --seed S` on any machine. Parts 1 and 2 (seeds 1,000,000 to
// 1,000,999) run twice, in two processes, in determinism.test.ts, which also compares their
// traces; parts 3 and 4 run in schedules-3.test.ts and schedules-4.test.ts.
import { createHash } from 'node:crypto';
import { failureReport } from './report.js';
import { runSchedule } from './schedule.js';

/** The first seed of the CI list. */
export const ciSeedBase = 1_000_000;

/** Seeds of part `part` (0–3) of the CI list: 500 each. */
export function ciSeeds(part: number): number[] {
  return Array.from({ length: 500 }, (_, i) => ciSeedBase + part * 500 + i);
}

export interface SeedsOutcome {
  schedules: number;
  steps: number;
  events: number;
  /** sha256 over every schedule's trace, in seed order. */
  digest: string;
  /** The first failure's report (seed, replay command, violations, shrunk trace). */
  failure: string | undefined;
}

/** Runs the schedules of `seeds` in order; stops at the first failure. */
export function runSeeds(seeds: readonly number[]): SeedsOutcome {
  const hash = createHash('sha256');
  const out: SeedsOutcome = { schedules: 0, steps: 0, events: 0, digest: '', failure: undefined };
  for (const seed of seeds) {
    const r = runSchedule({ seed });
    out.schedules++;
    out.steps += r.steps.length;
    out.events += r.events;
    for (const line of r.trace) hash.update(`${line}\n`);
    if (!r.ok) {
      out.failure = failureReport(r);
      break;
    }
  }
  out.digest = hash.digest('hex');
  return out;
}
