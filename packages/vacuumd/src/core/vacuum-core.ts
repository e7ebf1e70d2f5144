// The vacuumd core (DESIGN §4, §12): which db gets a pass when, one pass at a time, and the
// VacuumNow control. A state machine fed events — start, the timers it asked for, the replies to
// its requests, freeze and thaw, FeedGrew (debounced by the shell), VacuumNow — that never waits:
// requests go out through VacuumIo.request and come back through onReply. The shell owns sockets
// and real timers; test/sim drives the same core with a simulated dbd and a virtual clock.
import { ErrorCode } from '@ctdbng/protocol';
import { InvariantError, type Logger, type ReplyResult, type RequestId } from '@ctdbng/common';
import type { DbdReply, DbdRequestError, DbRef, NodeStateView, TunableSetting, VacuumIo, VacuumTimerId, VolatileDb } from './dbd-port.js';
import { DbdRequests, RequestTable } from './dbd-requests.js';
import { FreezeGate } from './pause-on-freeze.js';
import { PassScheduler, refused, type PassJob, type VacuumNowAnswer } from './pass-scheduler.js';
import type { StateFile } from './state-file.js';
import type { PassReport, PassState, VacuumSettings } from './vacuum-pass.js';

/** VacuumNow requests waiting at most (each an operator's `ctdbng vacuum`); past it: ERR_BUSY. */
export const vacuumNowWaitingMax = 1_000;

export interface VacuumCoreDeps {
  io: VacuumIo;
  state: StateFile;
  log: Logger;
  settings(): VacuumSettings;
  /** Every finished pass (metrics, logs). */
  onReport?(r: PassReport): void;
  /** After every interval tick's refresh (the shell's gauges). */
  onTick?(): void;
  /** When given, every tick first reads dbd's tunables (ListTunables) and hands them here (setvar). */
  onTunables?(list: readonly TunableSetting[]): void;
}

export class VacuumCore {
  readonly gate = new FreezeGate();
  private readonly requests: RequestTable;
  /** The core's own requests (refreshes, tunables); each pass has its own. */
  private readonly req: DbdRequests;
  private readonly dbs = new Map<number, VolatileDb>();
  private readonly passes: PassScheduler;
  private ticking = false;
  private nowWaiting = 0;
  private stopping = false;

  constructor(private readonly d: VacuumCoreDeps) {
    this.requests = new RequestTable(d.io, () => d.settings().requestTimeoutMs);
    this.req = new DbdRequests(this.requests);
    this.passes = new PassScheduler({ ...d, requests: this.requests, gate: this.gate, stopping: () => this.stopping, idle: () => this.afterPasses() }, {
      knows: (dbId) => this.dbs.get(dbId),
      refresh: (then) => this.refresh((err) => {
        if (err !== undefined) this.d.log.warn({ err: String(err) }, 'dbd not answering GetDbMap');
        then();
      }),
    });
  }

  /** The first tick now: refresh, then a pass of every db; then a tick every VacuumInterval. */
  start(): void {
    this.runTick();
  }

  /**
   * No new pass or batch starts; the running batch finishes (its state-file transaction is
   * whole). `onStopped` is called when no pass runs any more (at once when none does).
   */
  stop(onStopped?: () => void): void {
    this.stopping = true;
    this.d.io.cancelTimer('tick');
    this.passes.stop(onStopped);
  }

  onTimer(id: VacuumTimerId): void {
    if (id === 'tick') return this.runTick();
    this.passes.onTimer(id);
  }

  /** The answer to a request of this core (a late or unknown one is dropped). */
  onReply(id: RequestId, result: ReplyResult): void {
    this.requests.onReply(id, result);
  }

  onFreezeEvent(frozen: boolean, generation: number): void {
    this.d.log.info({ frozen, generation }, frozen ? 'dbd frozen: vacuum paused' : 'dbd thawed: vacuum resumes');
    if (this.gate.report(frozen, generation, 'event')) this.wakeAll();
  }

  /** FeedGrew for dbId (after the shell's debounce), or any reason to look at a db now. */
  wake(dbId: number): void {
    if (!this.stopping) this.passes.wake(dbId);
  }

  wakeAll(): void {
    for (const id of this.dbs.keys()) this.wake(id);
  }

  /**
   * VacuumNow: one full pass now for the named db (every volatile db when undefined or empty);
   * `reply` gets the reports when the last of its passes is done, or the error.
   */
  vacuumNow(dbName: string | undefined, reply: (a: VacuumNowAnswer) => void): void {
    if (this.stopping) return reply(refused(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping'));
    if (this.nowWaiting >= vacuumNowWaitingMax) return reply(refused(ErrorCode.ERR_BUSY, `${vacuumNowWaitingMax} VacuumNow requests already waiting`));
    this.nowWaiting += 1;
    const answer = (a: VacuumNowAnswer): void => {
      this.nowWaiting -= 1;
      reply(a);
    };
    this.refresh((err) => {
      if (err !== undefined) return answer(refused(err.code, `dbd: ${String(err)}`));
      if (this.stopping) return answer(refused(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping'));
      let targets = this.volatileDbs();
      if (dbName !== undefined && dbName !== '') {
        const db = targets.find((x) => x.name === dbName);
        if (db === undefined) return answer(refused(ErrorCode.ERR_UNKNOWN_DB, `no volatile database named '${dbName}' is attached`));
        targets = [db];
      }
      const job: PassJob = { kind: 'now', targets, reports: [], answer };
      this.passes.vacuumNow(job);
    });
  }

  volatileDbs(): VolatileDb[] {
    return [...this.dbs.values()];
  }

  /** The earliest next try of any pending item (the tick timer's deadline when sooner). */
  nextDueMs(): number | undefined {
    return this.d.state.nextDueMs();
  }

  /** The requests in flight and what each asked (traces, tests). */
  inFlight(): { id: RequestId; what: string }[] {
    return this.requests.inFlight();
  }

  /** The running pass: its db, step, batch and the requests it waits for (traces, tests). */
  passState(): PassState | undefined {
    return this.passes.passState();
  }

  /** Whether a pass runs or waits to (tests, the simulation's quiescence). */
  busy(): boolean {
    return this.passes.busy() || this.requests.inFlight().length > 0;
  }

  /**
   * GetDbMap (volatile dbs only: persistent dbs have no tombstones) and NodeState.frozen, asked at
   * once (one round trip's wait and wake-up, not two); with `tunables`, ListTunables too. The
   * answers are applied when all have come, in that order: tunables, dbs, freeze state.
   */
  private refresh(then: (err: DbdRequestError | undefined) => void, tunables?: (list: TunableSetting[]) => void): void {
    let dbMap: DbdReply<DbRef[]> | undefined;
    let nodeState: DbdReply<NodeStateView> | undefined;
    let tunableList: DbdReply<TunableSetting[]> | undefined;
    const all = (): void => {
      if (dbMap === undefined || nodeState === undefined || (tunables !== undefined && tunableList === undefined)) return;
      // dbd not answering the tunables: keep the values we have; the next tick asks again.
      if (tunables !== undefined && tunableList?.ok === true) tunables(tunableList.value);
      if (!dbMap.ok) return then(dbMap.err);
      this.dbs.clear();
      for (const db of dbMap.value) if (!db.persistent) this.dbs.set(db.dbId, { dbId: db.dbId, name: db.name });
      if (!nodeState.ok) return then(nodeState.err);
      // The thaw event may have been dropped by PUB: NodeState says so too.
      this.gate.report(nodeState.value.frozen, nodeState.value.generation, 'node-state');
      then(undefined);
    };
    if (tunables !== undefined) this.req.listTunables((r) => ((tunableList = r), all()));
    this.req.getDbMap((r) => ((dbMap = r), all()));
    this.req.getNodeState((r) => ((nodeState = r), all()));
  }

  /** The interval tick: dbd's tunables (when asked for) and a refresh at once, a pass for every db, next tick. */
  private runTick(): void {
    if (this.stopping || this.ticking) return;
    this.ticking = true;
    this.refresh((err) => {
      if (err !== undefined) this.d.log.warn({ err: String(err) }, 'dbd not answering; vacuum waits');
      else if (!this.stopping) this.wakeAll();
      this.ticking = false;
      try {
        this.d.onTick?.();
      } catch (err) {
        // The shell's gauges failed (the state file): the tick timer is armed all the same.
        if (err instanceof InvariantError) throw err;
        this.d.log.error({ err }, 'vacuum tick failed');
      }
      this.armTick();
    }, this.d.onTunables);
  }

  /** The passes ended: the tick comes at the earliest next try they left, if sooner. */
  private afterPasses(): void {
    if (!this.ticking) this.armTick();
  }

  /**
   * The next tick: VacuumInterval, or sooner at the earliest retry still to come (backoffs
   * shorter than it). An item already due when no pass runs could not be vacuumed by the last
   * pass (dbd frozen, its db not attached): it waits for the interval, not for a tick every
   * few ms that would ask dbd again and again.
   */
  private armTick(): void {
    if (this.stopping) return;
    const intervalMs = this.d.settings().intervalMs;
    let delayMs = intervalMs;
    try {
      const due = this.nextDueMs();
      const now = this.d.io.clock.nowMs();
      if (due !== undefined && due > now) delayMs = Math.min(intervalMs, Math.max(10, due - now));
    } catch (err) {
      if (err instanceof InvariantError) throw err;
      this.d.log.error({ err }, 'vacuum tick failed');
    }
    this.d.io.setTimer('tick', delayMs);
  }
}
