// What a failed schedule prints: its seed, the one-line command that replays it, the violations,
// and the shrunk steps with their trace (issue 11). A named scenario is replayed by its name.
import { shrink } from './shrink.js';
import { describe, type ScheduleResult } from './schedule.js';

/** Trace lines a scenario's report shows (the last ones: the fault is near the end). */
const scenarioTraceLines = 200;

export function failureReport(r: ScheduleResult & { scenario?: string }): string {
  if (r.scenario !== undefined) {
    return [
      `FAILED scenario "${r.scenario}": replay with: npm run sim -- --scenario "${r.scenario}"`,
      ...r.violations.slice(0, 10).map((v) => `  violation: ${v}`),
      `the last ${scenarioTraceLines} lines of its trace:`,
      ...r.trace.slice(-scenarioTraceLines).map((l) => `  ${l}`),
    ].join('\n');
  }
  const shrunk = shrink(r);
  return [
    `FAILED seed ${r.seed} (${r.nodes} nodes): replay with: npm run sim -- --seed ${r.seed}`,
    ...r.violations.slice(0, 10).map((v) => `  violation: ${v}`),
    `shrunk to ${shrunk.steps.length} of ${r.steps.length} steps:`,
    ...shrunk.steps.map((s) => `  ${describe(s.action)} then ${s.waitMs} ms`),
    'trace of the shrunk schedule:',
    ...shrunk.trace.map((l) => `  ${l}`),
    ...shrunk.violations.slice(0, 5).map((v) => `  violation: ${v}`),
  ].join('\n');
}
