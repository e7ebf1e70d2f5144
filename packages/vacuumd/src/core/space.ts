// Space (DESIGN §4.6): after purges vacuumd asks dbd to run SQLite's incremental vacuum on the db
// file in small steps (ReclaimSpace(db, pages)), paced, while the free list is large, so files
// shrink (CTDB's repack). vacuumd never opens a db file itself. Never ask for 0 pages: SQLite's
// incremental_vacuum(0) frees the whole list in one go, which would stall dbd.
import type { Clock, Dbd } from './dbd-port.js';

export interface SpacePolicy {
  pagesPerStep: number;
  /** Free-list pages below which the file is left as it is. */
  freelistPagesMin: number;
  stepsPerPassMax: number;
  pauseMsBetweenSteps: number;
}

export const spaceDefault: SpacePolicy = { pagesPerStep: 256, freelistPagesMin: 64, stepsPerPassMax: 256, pauseMsBetweenSteps: 2 };

export interface SpaceResult {
  steps: number;
  /** Free-list pages left after the last step (undefined: no step ran). */
  freelistPages: number | undefined;
  pageCount: number | undefined;
}

/** Whether a pass should reclaim: it purged something, or the last known free list is still large. */
export function spaceWanted(policy: SpacePolicy, purged: number, freelistPagesLast: number | undefined): boolean {
  return purged > 0 || (freelistPagesLast !== undefined && freelistPagesLast >= policy.freelistPagesMin);
}

export async function reclaimSpace(dbd: Dbd, clock: Clock, dbId: number, policy: SpacePolicy = spaceDefault, shouldStop: () => boolean = () => false): Promise<SpaceResult> {
  const out: SpaceResult = { steps: 0, freelistPages: undefined, pageCount: undefined };
  while (out.steps < policy.stepsPerPassMax && !shouldStop()) {
    const reply = await dbd.reclaimSpace(dbId, policy.pagesPerStep);
    out.steps += 1;
    out.freelistPages = reply.freelistPages;
    out.pageCount = reply.pageCount;
    if (reply.freelistPages < policy.freelistPagesMin) break;
    await clock.sleepMs(policy.pauseMsBetweenSteps);
  }
  return out;
}
