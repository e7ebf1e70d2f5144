// The vacuumd core (DESIGN §4, §12): which db gets a pass when, one pass at a time, and the
// VacuumNow control. Events in — the interval tick, FeedGrew (debounced by the shell), freeze and
// thaw, VacuumNow — and requests to dbd out through the injected Dbd. No sockets, timers or clock
// of its own: the shell owns those.
import { ErrorCode } from '@ctdbng/protocol';
import { InvariantError, type Logger } from '@ctdbng/common';
import { DbdRequestError, type Clock, type Dbd, type VolatileDb } from './dbd-port.js';
import { FreezeGate } from './pause-on-freeze.js';
import type { StateFile } from './state-file.js';
import { VacuumPass, type PassReport, type VacuumSettings } from './vacuum-pass.js';

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

export interface VacuumCoreDeps {
  dbd: Dbd;
  state: StateFile;
  clock: Clock;
  log: Logger;
  settings(): VacuumSettings;
  /** Every finished pass (metrics, logs). */
  onReport?(r: PassReport): void;
  /** A broken invariant inside a background pass: the shell logs it at fatal and exits. */
  onFatal(err: InvariantError): void;
}

export class VacuumCore {
  readonly gate = new FreezeGate();
  private readonly dbs = new Map<number, VolatileDb>();
  private readonly dirty = new Set<number>();
  private readonly lastScanMs = new Map<number, number>();
  private readonly freelistPagesLast = new Map<number, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly d: VacuumCoreDeps) {}

  volatileDbs(): VolatileDb[] {
    return [...this.dbs.values()];
  }

  /** GetDbMap (volatile dbs only: persistent dbs have no tombstones) and NodeState.frozen. */
  async refresh(): Promise<boolean> {
    const map = await this.d.dbd.getDbMap();
    this.dbs.clear();
    for (const db of map) if (!db.persistent) this.dbs.set(db.dbId, { dbId: db.dbId, name: db.name });
    const st = await this.d.dbd.getNodeState();
    // Returns whether this thawed the gate (the thaw event may have been dropped by PUB).
    return this.gate.report(st.frozen, st.generation, 'node-state');
  }

  /** The interval tick: refresh, then a pass for every db. */
  async tick(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.refresh();
    } catch (err) {
      this.d.log.warn({ err: String(err) }, 'dbd not answering; vacuum waits');
      return;
    }
    this.wakeAll();
  }

  onFreezeEvent(frozen: boolean, generation: number): void {
    this.d.log.info({ frozen, generation }, frozen ? 'dbd frozen: vacuum paused' : 'dbd thawed: vacuum resumes');
    if (this.gate.report(frozen, generation, 'event')) this.wakeAll();
  }

  /** FeedGrew for dbId (after the shell's debounce), or any reason to look at a db now. */
  wake(dbId: number): void {
    if (this.stopping) return;
    this.dirty.add(dbId);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  wakeAll(): void {
    for (const id of this.dbs.keys()) this.wake(id);
  }

  /** VacuumNow: one full pass now for the named db (every volatile db when empty), waited for. */
  async vacuumNow(dbName: string): Promise<DbReport[]> {
    if (this.stopping) throw new VacuumNowError(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping');
    try {
      await this.refresh();
    } catch (err) {
      throw new VacuumNowError(err instanceof DbdRequestError ? err.code : ErrorCode.ERR_NODE_UNREACHABLE, `dbd: ${String(err)}`);
    }
    const targets = dbName === '' ? this.volatileDbs() : [this.byName(dbName)];
    const out: DbReport[] = [];
    for (const db of targets) {
      const r = await this.exclusive(() => this.pass(db, true));
      out.push({ db: db.name, purged: r.counts.purged, pending: r.pending, failed: r.failed });
    }
    return out;
  }

  /** Stops starting passes and waits for the running one (its batch transaction completes). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.dirty.clear();
    await this.draining;
    await this.chain;
  }

  /** Resolves when no pass is running or wanted (tests; the shell does not wait). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
    await this.chain;
  }

  /** The earliest next try of any pending item (the shell's wake-up timer). */
  nextDueMs(): number | undefined {
    return this.d.state.nextDueMs();
  }

  private byName(name: string): VolatileDb {
    const db = this.volatileDbs().find((x) => x.name === name);
    if (db !== undefined) return db;
    throw new VacuumNowError(ErrorCode.ERR_UNKNOWN_DB, `no volatile database named '${name}' is attached`);
  }

  private async drain(): Promise<void> {
    while (!this.stopping && this.dirty.size > 0) {
      const dbId = this.dirty.values().next().value!;
      this.dirty.delete(dbId);
      if (!this.dbs.has(dbId)) await this.tryRefresh();
      const db = this.dbs.get(dbId);
      if (db === undefined) continue;
      try {
        await this.exclusive(() => this.pass(db, false));
      } catch (err) {
        if (err instanceof InvariantError) return this.d.onFatal(err);
        this.d.log.error({ db: db.name, err }, 'vacuum pass failed');
      }
    }
  }

  private async tryRefresh(): Promise<boolean> {
    try {
      return await this.refresh();
    } catch (err) {
      this.d.log.warn({ err: String(err) }, 'dbd not answering GetDbMap');
      return false;
    }
  }

  private async pass(db: VolatileDb, full: boolean): Promise<PassReport> {
    const s = this.d.settings();
    const startMs = this.d.clock.nowMs();
    const lastScan = this.lastScanMs.get(db.dbId);
    const scan = full || lastScan === undefined || startMs - lastScan >= s.fullScanIntervalMs;
    const deps = { dbd: this.d.dbd, state: this.d.state, clock: this.d.clock, log: this.d.log, gate: this.gate, stopping: () => this.stopping };
    const r = await new VacuumPass(deps, db, s).run({ full, scan, freelistPagesLast: this.freelistPagesLast.get(db.dbId) });
    if (r.scan !== undefined) this.lastScanMs.set(db.dbId, startMs);
    if (r.space?.freelistPages !== undefined) this.freelistPagesLast.set(db.dbId, r.space.freelistPages);
    const c = r.counts;
    if (c.seen > 0 || (r.scan?.added ?? 0) > 0) {
      this.d.log.info({ db: db.name, ...c, pending: r.pending, paused: r.paused, feed: r.feed?.entries, scanAdded: r.scan?.added, ms: this.d.clock.nowMs() - startMs }, 'vacuum pass');
    }
    this.d.onReport?.(r);
    return r;
  }

  /** Passes run one at a time (pacing is per daemon, and VacuumNow waits for the running pass). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
