// One vacuum pass over one db (DESIGN §4): (1) pull the feed, (2) the full scan when due, (3) every
// due item in batches of VacuumBatchSize through the vacuum steps (vacuum-item.ts), paced,
// (4) reclaim file space after purges. Every item seen ends in one counted outcome, written to the
// state file in one transaction per batch; the sum is asserted at the end of the pass.
// A pass is a state machine: `step` says where it is, its DbdRequests the request it waits for,
// and the `pace` / `space` timers its pauses; `done` gets the report.
import type { CoreClock, CoreTimers, Logger, RequestId } from '@ctdbng/common';
import { assert } from '@ctdbng/common';
import type { DbdReply, VacuumTimerId, VolatileDb } from './dbd-port.js';
import type { DbdRequests } from './dbd-requests.js';
import { FeedPuller, type FeedPull } from './feed-cursor.js';
import { FullScan, type FullScanResult } from './full-scan.js';
import { pacingDefault, pauseAfterBatchMs, type PacingPolicy } from './pacing.js';
import { assertCountsAddUp, countOutcome, emptyCounts, type PassCounts } from './pass-counts.js';
import type { FreezeGate } from './pause-on-freeze.js';
import { rescheduleAfterFailure, type RetryPolicy } from './retry-backoff.js';
import { SpaceReclaim, spaceDefault, spaceWanted, type SpacePolicy, type SpaceResult } from './space.js';
import type { PendingItem, StateFile } from './state-file.js';
import { BatchRunner, type BatchResult, type BatchStep, type ItemOutcome } from './vacuum-item.js';

export interface VacuumSettings extends RetryPolicy {
  pnn: number;
  batchSizeCount: number;
  fullScanIntervalMs: number;
  /** VacuumInterval: a pass of every db at least this often. */
  intervalMs: number;
  /** ControlTimeout: how long a request to dbd waits for its reply. */
  requestTimeoutMs: number;
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
  /** This pass's requests: abandoned whole if the pass fails. */
  req: DbdRequests;
  state: StateFile;
  clock: CoreClock;
  timers: CoreTimers<VacuumTimerId>;
  log: Logger;
  gate: FreezeGate;
  stopping(): boolean;
}

/** Where a pass is: waiting for a feed page, a scan batch, a batch step, the pace timer, space. */
export type PassStep = 'idle' | 'feed' | 'scan' | 'batch' | 'pace' | 'space' | 'done';

/** A pass's state, for traces: its step, the batch's (items, step) and the requests it waits for. */
export interface PassState {
  db: string;
  step: PassStep;
  batch: { items: number; step: BatchStep } | undefined;
  waitingFor: RequestId[];
}

const noKey = Buffer.alloc(0);

export class VacuumPass {
  step: PassStep = 'idle';
  private readonly counts = emptyCounts();
  private paused = false;
  private feed: FeedPull | undefined;
  private scan: FullScanResult | undefined;
  private space: SpaceResult | undefined;
  private spaceRun: SpaceReclaim | undefined;
  /** Items at most this due are taken (VacuumNow: all). */
  private dueMs = 0;
  /** The last key of the last batch: the next batch starts after it. */
  private after: Buffer = noKey;
  private batchStartMs = 0;
  /** The batch in flight (step 'batch'). */
  private batch: { items: number; runner: BatchRunner } | undefined;
  /** The batch that finished, waiting for the pace timer before its outcomes are written. */
  private finished: { items: readonly PendingItem[]; result: BatchResult } | undefined;

  constructor(private readonly d: PassDeps, readonly db: VolatileDb, private readonly s: VacuumSettings, private readonly o: PassOptions, private readonly done: (r: PassReport) => void) {}

  start(): void {
    if (this.d.gate.frozen) {
      this.paused = true;
      return this.end();
    }
    this.step = 'feed';
    new FeedPuller(this.d, this.db.dbId, this.s.batchSizeCount, (r) => {
      this.feed = this.guard('feed', r);
      if (this.o.scan && !this.paused) return this.startScan();
      this.startItems();
    }).start();
  }

  /** The pass's timers: `pace` ends the pause after a batch, `space` the one between space steps. */
  onTimer(id: VacuumTimerId): void {
    if (id === 'pace' && this.step === 'pace') return this.afterPause();
    if (id === 'space' && this.step === 'space') this.spaceRun?.onTimer();
  }

  state(): PassState {
    const b = this.batch;
    return { db: this.db.name, step: this.step, batch: b === undefined ? undefined : { items: b.items, step: b.runner.step }, waitingFor: this.d.req.waitingFor() };
  }

  /** The pass failed (a throw): stop waiting for its requests and timers. */
  abandon(): void {
    this.d.req.abandon();
    this.d.timers.cancelTimer('pace');
    this.d.timers.cancelTimer('space');
    this.step = 'done';
  }

  private startScan(): void {
    this.step = 'scan';
    new FullScan(this.d, this.db.dbId, this.s.pnn, (r) => {
      this.scan = this.guard('scan', r);
      this.startItems();
    }).start();
  }

  private startItems(): void {
    if (this.paused) return this.end();
    this.dueMs = this.o.full ? Number.MAX_SAFE_INTEGER : this.d.clock.nowMs();
    this.nextBatch();
  }

  /** Every due item once, in key order (an item retried in this pass is not due again in it). */
  private nextBatch(): void {
    if (this.d.stopping() || this.paused) return this.end();
    const batch = this.d.state.due(this.db.dbId, this.after, this.dueMs, this.s.batchSizeCount);
    if (batch.length === 0) return this.end();
    this.after = batch[batch.length - 1]!.key;
    this.step = 'batch';
    this.batchStartMs = this.d.clock.nowMs();
    const runner = new BatchRunner(this.d.req, this.db.dbId, this.d.log, (result) => {
      // Pacing (§4.7): wait as long as the batch kept dbd busy, then write its outcomes.
      this.batch = undefined;
      this.finished = { items: batch, result };
      this.step = 'pace';
      this.d.timers.setTimer('pace', pauseAfterBatchMs(this.s.pacing ?? pacingDefault, this.d.clock.nowMs() - this.batchStartMs));
    });
    this.batch = { items: batch.length, runner };
    runner.run(batch);
  }

  private afterPause(): void {
    const f = this.finished;
    assert(f !== undefined, 'pace timer without a finished batch');
    this.finished = undefined;
    assert(f.result.outcomes.length === f.items.length, 'a vacuum batch item without exactly one outcome');
    this.counts.seen += f.items.length;
    this.apply(f.result.outcomes);
    if (f.result.frozen) this.pause('plan');
    this.nextBatch();
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

  /** The items are done (or the pass paused): check the count, then space when wanted. */
  private end(): void {
    assertCountsAddUp(this.counts);
    if (this.paused || !spaceWanted(this.s.space ?? spaceDefault, this.counts.purged, this.o.freelistPagesLast)) return this.finish();
    this.step = 'space';
    this.spaceRun = new SpaceReclaim(this.d, this.db.dbId, this.s.space ?? spaceDefault, (r) => {
      this.spaceRun = undefined;
      this.space = this.guard('space', r);
      this.finish();
    });
    this.spaceRun.start();
  }

  private finish(): void {
    this.step = 'done';
    const left = this.d.state.counts(this.db.dbId);
    this.done({
      db: this.db, counts: this.counts, paused: this.paused, feed: this.feed, scan: this.scan, space: this.space,
      pending: left.pending, failed: left.failed, oldestFirstSeenMs: left.oldestFirstSeenMs,
    });
  }

  private pause(source: 'plan' | 'request'): void {
    this.paused = true;
    this.d.gate.report(true, undefined, source);
  }

  /** A step that is not per item (feed, scan, space): a failure is logged, a freeze pauses the pass. */
  private guard<T>(step: string, r: DbdReply<T>): T | undefined {
    if (r.ok) return r.value;
    if (r.err.frozen) {
      this.pause('request');
      return undefined;
    }
    this.d.log.warn({ db: this.db.name, step, err: r.err.message }, 'vacuum step failed; next pass retries');
    return undefined;
  }
}
