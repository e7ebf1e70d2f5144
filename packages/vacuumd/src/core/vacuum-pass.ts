// One vacuum pass over one db (DESIGN §4): (1) pull the feed, (2) the full scan when due, (3) every
// due item in batches of VacuumBatchSize through the vacuum steps (vacuum-item.ts), paced,
// (4) reclaim file space after purges. Every item seen ends in one counted outcome, written to the
// state file in one transaction per batch; the sum is asserted at the end of the pass.
import type { Logger } from '@ctdbng/common';
import { assert } from '@ctdbng/common';
import { DbdRequestError, type Clock, type Dbd, type VolatileDb } from './dbd-port.js';
import { pullFeed, type FeedPull } from './feed-cursor.js';
import { fullScan, type FullScanResult } from './full-scan.js';
import { Pacer, type PacingPolicy, pacingDefault } from './pacing.js';
import { assertCountsAddUp, countOutcome, emptyCounts, type PassCounts } from './pass-counts.js';
import type { FreezeGate } from './pause-on-freeze.js';
import { rescheduleAfterFailure, type RetryPolicy } from './retry-backoff.js';
import { reclaimSpace, spaceDefault, spaceWanted, type SpacePolicy, type SpaceResult } from './space.js';
import type { PendingItem, StateFile } from './state-file.js';
import { BatchRunner, type ItemOutcome } from './vacuum-item.js';

export interface VacuumSettings extends RetryPolicy {
  pnn: number;
  batchSizeCount: number;
  fullScanIntervalMs: number;
  pacing?: PacingPolicy;
  space?: SpacePolicy;
}

export interface PassOptions {
  /** VacuumNow: full scan, and every pending item regardless of its backoff. */
  full: boolean;
  /** Run the full scan (the core decides by VacuumFullScanInterval). */
  scan: boolean;
  /** Free-list pages the last pass left (space continues while it is large). */
  freelistPagesLast: number | undefined;
}

export interface PassReport {
  db: VolatileDb;
  counts: PassCounts;
  /** The pass stopped (or did not start) because dbd is frozen. */
  paused: boolean;
  feed: FeedPull | undefined;
  scan: FullScanResult | undefined;
  space: SpaceResult | undefined;
  pending: number;
  failed: number;
  oldestFirstSeenMs: number | undefined;
}

export interface PassDeps {
  dbd: Dbd;
  state: StateFile;
  clock: Clock;
  log: Logger;
  gate: FreezeGate;
  stopping(): boolean;
}

const noKey = Buffer.alloc(0);

export class VacuumPass {
  private readonly counts = emptyCounts();
  private paused = false;

  constructor(private readonly d: PassDeps, private readonly db: VolatileDb, private readonly s: VacuumSettings) {}

  async run(o: PassOptions): Promise<PassReport> {
    let feed: FeedPull | undefined;
    let scan: FullScanResult | undefined;
    let space: SpaceResult | undefined;
    if (!this.d.gate.frozen) {
      feed = await this.guard('feed', () => pullFeed(this.d.dbd, this.d.state, this.d.clock, this.db.dbId, this.s.batchSizeCount, this.d.log));
      if (o.scan && !this.paused) scan = await this.guard('scan', () => fullScan(this.d.dbd, this.d.state, this.db.dbId, this.s.pnn, () => this.d.clock.nowMs()));
      if (!this.paused) await this.items(o.full);
    } else {
      this.paused = true;
    }
    assertCountsAddUp(this.counts);
    if (!this.paused && spaceWanted(this.s.space ?? spaceDefault, this.counts.purged, o.freelistPagesLast)) {
      space = await this.guard('space', () => reclaimSpace(this.d.dbd, this.d.clock, this.db.dbId, this.s.space, () => this.d.stopping()));
    }
    const left = this.d.state.counts(this.db.dbId);
    return { db: this.db, counts: this.counts, paused: this.paused, feed, scan, space, pending: left.pending, failed: left.failed, oldestFirstSeenMs: left.oldestFirstSeenMs };
  }

  /** Every due item once, in key order (an item retried in this pass is not due again in it). */
  private async items(full: boolean): Promise<void> {
    const dueMs = full ? Number.MAX_SAFE_INTEGER : this.d.clock.nowMs();
    const pacer = new Pacer(this.d.clock, this.s.pacing ?? pacingDefault);
    let after: Buffer = noKey;
    while (!this.d.stopping() && !this.paused) {
      const batch = this.d.state.due(this.db.dbId, after, dueMs, this.s.batchSizeCount);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.key;
      const result = await pacer.paced(() => new BatchRunner(this.d.dbd, this.db.dbId, this.d.log).run(batch));
      assert(result.outcomes.length === batch.length, 'a vacuum batch item without exactly one outcome');
      this.counts.seen += batch.length;
      this.apply(result.outcomes);
      if (result.frozen) this.pause('plan');
    }
  }

  /** Writes a batch's outcomes in one transaction of the state file and counts them. */
  private apply(outcomes: readonly ItemOutcome[]): void {
    const nowMs = this.d.clock.nowMs();
    const done: PendingItem[] = [];
    const retry: { item: PendingItem; attempts: number; nextTryMs: number }[] = [];
    for (const o of outcomes) {
      countOutcome(this.counts, o.outcome);
      if (o.reason === 'newer') this.counts.droppedNewer += 1;
      if (o.outcome === 'retried' || o.outcome === 'failed') {
        // A freeze is not the item's failure: it is tried again right after the thaw.
        retry.push(o.backoff ? { item: o.item, ...rescheduleAfterFailure(this.s, o.item.attempts, nowMs) } : { item: o.item, attempts: o.item.attempts, nextTryMs: nowMs });
      } else {
        done.push(o.item);
      }
      this.d.log.debug({ db: this.db.name, outcome: o.outcome, reason: o.reason, rsn: o.item.rsn }, 'vacuum item');
    }
    this.d.state.applyOutcomes(this.db.dbId, done, retry);
  }

  private pause(source: 'plan' | 'request'): void {
    this.paused = true;
    this.d.gate.report(true, undefined, source);
  }

  /** A step that is not per item (feed, scan, space): a failure is logged, a freeze pauses the pass. */
  private async guard<T>(step: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DbdRequestError && err.frozen) {
        this.pause('request');
        return undefined;
      }
      if (!(err instanceof DbdRequestError)) throw err;
      this.d.log.warn({ db: this.db.name, step, err: err.message }, 'vacuum step failed; next pass retries');
      return undefined;
    }
  }
}
