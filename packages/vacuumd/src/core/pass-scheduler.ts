// Which db gets a pass when (DESIGN §4): passes run one at a time per daemon (pacing is per
// daemon, and VacuumNow waits for the running pass). A FIFO of jobs: at most one background job
// (the dbs FeedGrew, a tick or a thaw woke, taken one at a time from `dirty`) and one per waiting
// VacuumNow, which goes back to the end of the queue after each of its dbs. A pass that throws
// (the state file failed) is abandoned and logged; an InvariantError goes on up to the shell.
import { ErrorCode } from '@ctdbng/protocol';
import { assert, InvariantError, type Logger } from '@ctdbng/common';
import type { VacuumIo, VacuumTimerId, VolatileDb } from './dbd-port.js';
import { DbdRequests, type RequestTable } from './dbd-requests.js';
import type { FreezeGate } from './pause-on-freeze.js';
import type { StateFile } from './state-file.js';
import { VacuumPass, type PassReport, type PassState, type VacuumSettings } from './vacuum-pass.js';

/** A VacuumNow that cannot run: answered with an Error reply of this code. */
export class VacuumNowError extends Error {
  override readonly name = 'VacuumNowError';
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

export interface DbReport {
  db: string;
  purged: number;
  pending: number;
  failed: number;
}

/** The answer to a VacuumNow: a report per db, or why it did not run (VacuumNowError; else internal). */
export type VacuumNowAnswer = { ok: true; dbs: DbReport[] } | { ok: false; error: Error };

export function refused(code: ErrorCode, message: string): VacuumNowAnswer {
  return { ok: false, error: new VacuumNowError(code, message) };
}

export type PassJob =
  | { kind: 'background'; db: VolatileDb }
  | { kind: 'now'; targets: readonly VolatileDb[]; reports: DbReport[]; answer: (a: VacuumNowAnswer) => void };

export interface SchedulerDeps {
  io: VacuumIo;
  requests: RequestTable;
  state: StateFile;
  log: Logger;
  gate: FreezeGate;
  settings(): VacuumSettings;
  onReport?(r: PassReport): void;
  stopping(): boolean;
  /** No pass runs or waits to: the items' next tries are known now. */
  idle?(): void;
}

/** The core's db map: a known db, or a refresh (GetDbMap) for one that is not known yet. */
export interface DbDirectory {
  knows(dbId: number): VolatileDb | undefined;
  refresh(then: () => void): void;
}

interface Running {
  job: PassJob;
  pass: VacuumPass;
  req: DbdRequests;
  startMs: number;
}

export class PassScheduler {
  private readonly queue: PassJob[] = [];
  private running: Running | undefined;
  /** Dbs woken for a background pass; the background job takes them one at a time. */
  private readonly dirty = new Set<number>();
  private background: 'idle' | 'refreshing' | 'queued' | 'running' = 'idle';
  private readonly lastScanMs = new Map<number, number>();
  private readonly freelistPagesLast = new Map<number, number>();
  private scheduling = false;
  private onStopped: (() => void) | undefined;

  constructor(private readonly d: SchedulerDeps, private readonly dir: DbDirectory) {}

  wake(dbId: number): void {
    this.dirty.add(dbId);
    this.drain();
  }

  vacuumNow(job: PassJob & { kind: 'now' }): void {
    if (job.targets.length === 0) return job.answer({ ok: true, dbs: [] });
    this.queue.push(job);
    this.schedule();
  }

  onTimer(id: VacuumTimerId): void {
    const r = this.running;
    if (r !== undefined) this.inPass(r.req, () => r.pass.onTimer(id));
  }

  stop(onStopped: (() => void) | undefined): void {
    this.dirty.clear();
    for (const job of this.queue.splice(0)) {
      if (job.kind === 'now') job.answer(refused(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping'));
      else this.background = 'idle';
    }
    if (this.running === undefined) return onStopped?.();
    this.onStopped = onStopped;
  }

  busy(): boolean {
    return this.running !== undefined || this.queue.length > 0 || this.background !== 'idle';
  }

  /** Where the running pass is (traces, tests); undefined when none runs. */
  passState(): PassState | undefined {
    return this.running?.pass.state();
  }

  /** The next woken db into the queue (after a GetDbMap when it is not known yet). */
  private drain(): void {
    if (this.background !== 'idle' || this.d.stopping()) return;
    const dbId = this.dirty.values().next().value;
    if (dbId === undefined) return;
    this.dirty.delete(dbId);
    const db = this.dir.knows(dbId);
    if (db !== undefined) return this.enqueueBackground(db);
    this.background = 'refreshing';
    this.dir.refresh(() => {
      this.background = 'idle';
      const known = this.dir.knows(dbId);
      if (known !== undefined && !this.d.stopping()) return this.enqueueBackground(known);
      this.drain();
    });
  }

  private enqueueBackground(db: VolatileDb): void {
    this.background = 'queued';
    this.queue.push({ kind: 'background', db });
    this.schedule();
  }

  /** Starts queued jobs while none runs (a loop, not recursion: a paused pass ends at once). */
  private schedule(): void {
    if (this.scheduling) return;
    this.scheduling = true;
    try {
      while (this.running === undefined) {
        const job = this.queue.shift();
        if (job === undefined) break;
        this.startPass(job);
      }
    } finally {
      this.scheduling = false;
    }
  }

  private startPass(job: PassJob): void {
    const db = job.kind === 'background' ? job.db : job.targets[job.reports.length]!;
    if (job.kind === 'background') this.background = 'running';
    const s = this.d.settings();
    const startMs = this.d.io.clock.nowMs();
    const lastScan = this.lastScanMs.get(db.dbId);
    const full = job.kind === 'now';
    const scan = full || lastScan === undefined || startMs - lastScan >= s.fullScanIntervalMs;
    const req: DbdRequests = new DbdRequests(this.d.requests, (fn) => this.inPass(req, fn));
    const deps = { req, state: this.d.state, clock: this.d.io.clock, timers: this.d.io, log: this.d.log, gate: this.d.gate, stopping: () => this.d.stopping() };
    const pass = new VacuumPass(deps, db, s, { full, scan, freelistPagesLast: this.freelistPagesLast.get(db.dbId) }, (r) => this.passDone(pass, r));
    this.running = { job, pass, req, startMs };
    this.inPass(req, () => pass.start());
  }

  /** Runs a step of the pass that owns `req`; a throw other than a broken invariant fails that pass. */
  private inPass(req: DbdRequests, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof InvariantError || this.running?.req !== req) throw err;
      this.passFailed(err);
    }
  }

  private passDone(pass: VacuumPass, r: PassReport): void {
    const run = this.running;
    assert(run !== undefined && run.pass === pass, 'a pass that is not running reported');
    this.running = undefined;
    if (r.scan !== undefined) this.lastScanMs.set(r.db.dbId, run.startMs);
    if (r.space?.freelistPages !== undefined) this.freelistPagesLast.set(r.db.dbId, r.space.freelistPages);
    const c = r.counts;
    if (c.seen > 0 || (r.scan?.added ?? 0) > 0) {
      this.d.log.info({ db: r.db.name, ...c, pending: r.pending, paused: r.paused, feed: r.feed?.entries, scanAdded: r.scan?.added, ms: this.d.io.clock.nowMs() - run.startMs }, 'vacuum pass');
    }
    try {
      this.d.onReport?.(r);
    } catch (err) {
      // The shell's metrics failed: the pass is done all the same, and so is its job.
      if (err instanceof InvariantError) throw err;
      this.d.log.error({ err }, 'vacuum pass report failed');
    }
    const job = run.job;
    if (job.kind === 'background') {
      this.background = 'idle';
      this.drain();
    } else {
      job.reports.push({ db: r.db.name, purged: c.purged, pending: r.pending, failed: r.failed });
      if (job.reports.length === job.targets.length) job.answer({ ok: true, dbs: job.reports });
      else if (this.d.stopping()) job.answer(refused(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping'));
      else this.queue.push(job);
    }
    this.afterPass();
  }

  private passFailed(err: unknown): void {
    const run = this.running;
    assert(run !== undefined, 'a pass failed while none runs');
    this.running = undefined;
    run.pass.abandon();
    this.d.log.error({ db: run.pass.db.name, err }, 'vacuum pass failed');
    if (run.job.kind === 'background') {
      this.background = 'idle';
      this.drain();
    } else {
      run.job.answer({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
    }
    this.afterPass();
  }

  private afterPass(): void {
    if (!this.d.stopping()) {
      this.schedule();
      if (!this.busy()) this.d.idle?.();
      return;
    }
    const stopped = this.onStopped;
    this.onStopped = undefined;
    stopped?.();
  }
}
