// Space (DESIGN §4.6): after purges vacuumd asks dbd to run SQLite's incremental vacuum on the db
// file in small steps (ReclaimSpace(db, pages)), paced, while the free list is large, so files
// shrink (CTDB's repack). vacuumd never opens a db file itself. Never ask for 0 pages: SQLite's
// incremental_vacuum(0) frees the whole list in one go, which would stall dbd.
// A state machine: a ReclaimSpace in flight, or the `space` timer between two steps.
import type { CoreTimers } from '@ctdbng/common';
import type { DbdReply, SpaceReply, VacuumTimerId } from './dbd-port.js';
import type { DbdRequests } from './dbd-requests.js';

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

export interface SpaceDeps {
  req: DbdRequests;
  timers: CoreTimers<VacuumTimerId>;
  stopping(): boolean;
}

export class SpaceReclaim {
  private readonly out: SpaceResult = { steps: 0, freelistPages: undefined, pageCount: undefined };
  /** Waiting for the `space` timer between two steps. */
  private pausing = false;

  constructor(private readonly d: SpaceDeps, private readonly dbId: number, private readonly policy: SpacePolicy, private readonly done: (r: DbdReply<SpaceResult>) => void) {}

  start(): void {
    this.step();
  }

  /** The `space` timer: the pause between steps is over. */
  onTimer(): void {
    if (!this.pausing) return;
    this.pausing = false;
    this.step();
  }

  private step(): void {
    if (this.out.steps >= this.policy.stepsPerPassMax || this.d.stopping()) return this.done({ ok: true, value: this.out });
    this.d.req.reclaimSpace(this.dbId, this.policy.pagesPerStep, (r) => this.onStep(r));
  }

  private onStep(r: DbdReply<SpaceReply>): void {
    if (!r.ok) return this.done(r);
    this.out.steps += 1;
    this.out.freelistPages = r.value.freelistPages;
    this.out.pageCount = r.value.pageCount;
    if (r.value.freelistPages < this.policy.freelistPagesMin) return this.done({ ok: true, value: this.out });
    this.pausing = true;
    this.d.timers.setTimer('space', this.policy.pauseMsBetweenSteps);
  }
}
