// Shrinking a failing schedule (issue 11: "a shrunk trace of the steps that led there"): with the
// same seed (the network's and the cores' randomness), drop steps and shorten waits while the
// schedule still fails; what is left is the replay to read.
import { runSchedule, type ScheduleResult, type Step } from './schedule.js';

/** Replays allowed at most while shrinking (each is one schedule). */
export const shrinkRunsMax = 200;

export function shrink(failed: ScheduleResult): ScheduleResult {
  let best = failed;
  let runs = 0;
  const tryWith = (steps: Step[]): boolean => {
    if (runs >= shrinkRunsMax) return false;
    runs++;
    const r = runSchedule({ seed: failed.seed, nodes: failed.nodes, steps });
    if (r.ok) return false;
    best = r;
    return true;
  };
  // Remove whole steps, last first (later faults depend on earlier ones less often).
  for (let i = best.steps.length - 1; i >= 0; i--) {
    const steps = best.steps.filter((_, j) => j !== i);
    tryWith(steps);
  }
  // Shorten the waits that are left.
  for (let i = 0; i < best.steps.length; i++) {
    const s = best.steps[i]!;
    if (s.waitMs <= 20) continue;
    tryWith(best.steps.map((x, j) => (j === i ? { ...x, waitMs: Math.max(20, Math.floor(x.waitMs / 4)) } : x)));
  }
  return best;
}
