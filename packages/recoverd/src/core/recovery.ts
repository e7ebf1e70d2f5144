// The recovery (DESIGN §5.3), run by the leader:
//   0. re-check: still leader in the same term, own node eligible, a majority visible (§5.2);
//   1. Freeze{term, generation} to every participant (the connected nodes, witnesses included);
//      the replies decide the quorum (§1: a majority of the nodes file, amnesiac nodes not
//      counted), the vnnmap (the participants able to hold records) and G_max (§5.4);
//   2. GetDbMap, then per db, several at a time: pull the copies that count, merge, push
//      (db-pool.ts, recover-db.ts);
//   3. InstallGeneration{term, generation, vnnmap, participants, leader} to all; only when all
//      have it, Thaw{term, generation} to all — after SharedAccessLease + LeaseDriftMargin (as
//      the nodes read them now) when a node of the nodes file was not frozen: its dbd may still
//      serve shared access until its lease ends (§2.2).
// A step failing on a node blames that node; the caller counts it (banning.ts) and starts over
// with a new generation. ERR_STALE_TERM from any node means a newer leader: abort, step down.
//
// A state machine: `phase` names the step and holds the controls it waits for; each answer comes
// in through onReply, the end of the lease wait through onLeaseWaitOver (timer 'lease-wait'). A
// step moves on when its last answer is in; the result goes to `done`, once.
import { generationText, type Logger, type ReplyResult, type RequestId } from '@ctdbng/common';
import { ControlError, EveryNode } from './control.js';
import { DbPool } from './db-pool.js';
import type { RequestFn } from './io.js';
import { canBeMember, hasQuorum } from './monitor.js';
import type { DbInfo } from './recover-db.js';
import { highestInstalled, type FreezeReply } from './zombie-guard.js';

/** Dbs per recovery at most (push ids are seq × 2^16 + index, below 2^53). */
export const dbsMax = 0xffff;

export interface RecoveryTunables {
  recoveryTimeoutMs: number;
  recoveryDrainTimeoutMs: number;
}

export interface RecoveryIo {
  /** A control to node pnn; its answer comes back through Recovery.onReply. */
  request: RequestFn<number>;
  /** Asks for Recovery.onLeaseWaitOver() after ms. */
  setTimer(id: 'lease-wait', ms: number): void;
  nowMs(): number;
}

export interface RecoveryInput {
  io: RecoveryIo;
  log: Logger;
  tunables: RecoveryTunables;
  leader: number;
  term: number;
  /** The new generation (term × 2^32 + seq), above every one this leader made. */
  generation: number;
  /** Connected nodes (witnesses included), sorted: each is frozen and installs the generation. */
  participants: readonly number[];
  /**
   * Participants that can only be witnesses (stopped, banned, inactive, configured so): one that
   * fails its freeze is left out rather than failing the recovery, as long as a quorum remains —
   * a banned node that cannot even be frozen must not keep the cluster from recovering.
   */
  optional: ReadonlySet<number>;
  /** Non-deleted lines of the nodes file: what a quorum is a majority of. */
  nodesCount: number;
  /** A reason not to (go on) recover(ing), or undefined. Asked before the freeze and between steps. */
  recheck(): string | undefined;
}

export type RecoveryResult =
  | { ok: true; generation: number; durationMs: number; dbs: number; vnnmap: number[]; participants: number[] }
  | { ok: false; reason: string; blame: number[]; staleTerm: boolean; aborted: boolean; noQuorum: boolean; durationMs: number };

class StepFailed extends Error {
  override readonly name = 'StepFailed';
  constructor(readonly step: string, readonly failures: ControlError[]) {
    super(`${step} failed on node(s) ${[...new Set(failures.map((f) => f.pnn))].join(',')}: ${failures[0]?.message ?? ''}`);
  }
}

class Aborted extends Error {
  override readonly name = 'Aborted';
  constructor(message: string, readonly noQuorum = false) {
    super(message);
  }
}

interface Frozen {
  /** The participants frozen, sorted: everything after the freeze goes to them. */
  participants: number[];
  replies: FreezeReply[];
  gMax: number;
  vnnmap: number[];
  /** When the last freeze reply came: the start of the lease wait. */
  atMs: number;
}

type Phase =
  | { name: 'idle' }
  | { name: 'freeze'; step: EveryNode<'freezeReply'> }
  | { name: 'dbmap'; step: EveryNode<'dbMap'> }
  | { name: 'dbs'; pool: DbPool; dbs: number }
  | { name: 'install'; step: EveryNode<'ok'>; dbs: number }
  | { name: 'lease-wait'; dbs: number }
  | { name: 'thaw'; step: EveryNode<'ok'>; dbs: number; recoveryMs: number }
  | { name: 'done' };

export class Recovery {
  private phase: Phase = { name: 'idle' };
  private frozen: Frozen | undefined;
  private startMs = 0;
  private readonly stepsMs: Record<string, number> = {};
  private readonly log: Logger;

  constructor(private readonly r: RecoveryInput, private readonly done: (result: RecoveryResult) => void) {
    this.log = r.log.child({ generation: generationText(r.generation), term: r.term });
  }

  get phaseName(): Phase['name'] {
    return this.phase.name;
  }

  /** Step 0 and the freeze. A recovery that may not run ends here, before any control is sent. */
  start(): void {
    this.startMs = this.r.io.nowMs();
    this.advance(() => {
      this.checkStill();
      this.log.info({ participants: this.r.participants }, 'recovery started');
      const freezeMs = this.r.tunables.recoveryDrainTimeoutMs + this.r.tunables.recoveryTimeoutMs;
      const body = { freeze: { term: this.r.term, generation: this.r.generation } };
      this.phase = { name: 'freeze', step: new EveryNode('freeze', 'freezeReply', this.r.participants).send(this.r.io.request, () => body, freezeMs) };
    });
  }

  /** Takes the answer to one of the recovery's controls; false when `id` is not one of them. */
  onReply(id: RequestId, result: ReplyResult): boolean {
    const p = this.phase;
    switch (p.name) {
      case 'freeze':
      case 'dbmap':
      case 'install':
      case 'thaw':
        if (!p.step.take(id, result)) return false;
        if (p.step.done) this.advance(() => this.stepDone());
        return true;
      case 'dbs':
        if (!p.pool.onReply(id, result)) return false;
        if (p.pool.done) this.advance(() => this.dbsDone(p.pool, p.dbs));
        return true;
      default:
        return false;
    }
  }

  /** The lease wait is over (timer 'lease-wait'): thaw. */
  onLeaseWaitOver(): void {
    const p = this.phase;
    if (p.name !== 'lease-wait') return;
    this.advance(() => this.thaw(p.dbs));
  }

  private stepDone(): void {
    const p = this.phase;
    if (p.name === 'freeze') this.frozenAll(p.step);
    else if (p.name === 'dbmap') this.listedDbs(p.step);
    else if (p.name === 'install') this.installed(p.step, p.dbs);
    else if (p.name === 'thaw') this.thawed(p.step, p.dbs, p.recoveryMs);
  }

  private frozenAll(step: EveryNode<'freezeReply'>): void {
    const f = this.decideFrozen(step);
    this.frozen = f;
    // No participant acks a probe of the replaced generation from here on (§2.2).
    this.stepsMs['freeze'] = f.atMs - this.startMs;
    this.checkStill();
    const step2 = new EveryNode('getdbmap', 'dbMap', f.participants).send(this.r.io.request, () => ({ getDbMap: {} }), this.r.tunables.recoveryTimeoutMs);
    this.phase = { name: 'dbmap', step: step2 };
  }

  /** Step 1's answers: decide quorum, vnnmap and G_max from the replies only. */
  private decideFrozen(step: EveryNode<'freezeReply'>): Frozen {
    const r = this.r;
    const atMs = r.io.nowMs();
    const failures = step.failures();
    const fatal = failures.filter((f) => !r.optional.has(f.pnn) || f.staleTerm);
    if (fatal.length > 0) throw new StepFailed('freeze', fatal);
    for (const f of failures) this.log.warn({ node: f.pnn, err: f.message }, 'witness not frozen: left out of this recovery');
    const results = step.results();
    const participants = r.participants.filter((p) => results.has(p));
    const replies = participants.map((p) => results.get(p)!);
    if (!hasQuorum(replies, r.nodesCount)) {
      const counted = replies.filter((x) => !x.amnesiac).map((x) => x.pnn);
      throw new Aborted(`no quorum: ${counted.length} of ${r.nodesCount} nodes count (${counted.join(',') || 'none'})`, true);
    }
    const vnnmap = replies.filter((x) => canBeMember(x)).map((x) => x.pnn).sort((a, b) => a - b);
    if (!vnnmap.includes(r.leader)) throw new Aborted('own node is not eligible');
    return { participants, replies, gMax: highestInstalled(replies), vnnmap, atMs };
  }

  /** The union of the participants' dbs (GetDbMap gives the persistent flag the freeze reply lacks). */
  private listedDbs(step: EveryNode<'dbMap'>): void {
    const failures = step.failures();
    if (failures.length > 0) throw new StepFailed('getdbmap', failures);
    const byId = new Map<number, DbInfo>();
    for (const [pnn, map] of step.results()) {
      for (const db of map.dbs) {
        const info = { dbId: db.dbId ?? 0, name: db.name ?? '', persistent: db.persistent ?? false, holders: [pnn] };
        const seen = byId.get(info.dbId);
        if (seen === undefined) byId.set(info.dbId, info);
        else if (seen.name === info.name && seen.persistent === info.persistent) seen.holders.push(pnn);
        else {
          // The push of the first kind will be refused by the node that has the other (ERR_DB_CONFLICT).
          this.log.error({ db: info.name, dbId: info.dbId, pnn }, 'db attached with another name or kind on some node');
        }
      }
    }
    const dbs = [...byId.values()].sort((a, b) => a.dbId - b.dbId);
    if (dbs.length > dbsMax) throw new Aborted(`${dbs.length} dbs exceed ${dbsMax}`);
    const f = this.frozen!;
    const r = this.r;
    const ctx = {
      request: r.io.request, term: r.term, leader: r.leader, generation: r.generation, replies: f.replies, gMax: f.gMax,
      participants: f.participants, members: new Set(f.vnnmap), timeoutMs: r.tunables.recoveryTimeoutMs,
    };
    const pool = new DbPool(ctx, dbs, (r.generation % 2 ** 32) * 0x10000, this.log);
    this.phase = { name: 'dbs', pool, dbs: dbs.length };
    pool.start();
    if (pool.done) this.dbsDone(pool, dbs.length);
  }

  private dbsDone(pool: DbPool, dbs: number): void {
    if (pool.failures.length > 0) throw new StepFailed('pull/push', pool.failures);
    const f = this.frozen!;
    const r = this.r;
    this.stepsMs['dbs'] = r.io.nowMs() - f.atMs;
    this.checkStill();
    const participants = f.replies.map((x) => ({ pnn: x.pnn, incarnation: x.incarnation }));
    const install = { installGeneration: { term: r.term, generation: r.generation, pnns: f.vnnmap, participants, leader: r.leader } };
    const step = new EveryNode('install', 'ok', f.participants).send(r.io.request, () => install, r.tunables.recoveryTimeoutMs);
    this.phase = { name: 'install', step, dbs };
  }

  private installed(step: EveryNode<'ok'>, dbs: number): void {
    const f = this.frozen!;
    this.witnessesOptional(step);
    this.stepsMs['install'] = this.r.io.nowMs() - this.startMs - this.stepsMs['freeze']! - this.stepsMs['dbs']!;
    const waitMs = this.leaseWaitMs(f);
    if (waitMs <= 0) return this.thaw(dbs);
    this.log.info({ participants: f.participants, waitMs }, 'waiting out the shared access lease of nodes not frozen');
    this.phase = { name: 'lease-wait', dbs };
    this.r.io.setTimer('lease-wait', waitMs);
  }

  private thaw(dbs: number): void {
    const r = this.r;
    this.checkStill();
    const recoveryMs = r.io.nowMs() - this.startMs;
    const body = { thaw: { term: r.term, generation: r.generation, recoveryMs } };
    const step = new EveryNode('thaw', 'ok', this.frozen!.participants).send(r.io.request, () => body, r.tunables.recoveryTimeoutMs);
    this.phase = { name: 'thaw', step, dbs, recoveryMs };
  }

  private thawed(step: EveryNode<'ok'>, dbs: number, recoveryMs: number): void {
    const f = this.frozen!;
    this.witnessesOptional(step);
    const durationMs = this.r.io.nowMs() - this.startMs;
    this.stepsMs['thaw'] = this.r.io.nowMs() - this.startMs - recoveryMs;
    this.log.info({ durationMs, dbs, vnnmap: f.vnnmap, gMax: generationText(f.gMax), stepsMs: this.stepsMs }, 'recovery done');
    this.finish({ ok: true, generation: this.r.generation, durationMs, dbs, vnnmap: f.vnnmap, participants: f.participants });
  }

  /**
   * After a step on every frozen participant. A witness that failed it (a banned node, say) is
   * left out of the steps after, rather than failing the recovery for ever: it stays frozen for
   * this generation and so acks no probe of an older one. A member that failed it fails the recovery.
   */
  private witnessesOptional(step: EveryNode<'ok'>): void {
    const f = this.frozen!;
    const failures = step.failures();
    const fatal = failures.filter((x) => f.vnnmap.includes(x.pnn) || x.staleTerm);
    if (fatal.length > 0) throw new StepFailed(step.step, fatal);
    for (const x of failures) this.log.warn({ node: x.pnn, step: step.step, err: x.message }, 'witness left out of the rest of this recovery');
    f.participants = f.participants.filter((p) => !failures.some((x) => x.pnn === p));
  }

  /** Before a thaw when a node of the nodes file was not frozen (§2.2): its lease may still run. */
  private leaseWaitMs(f: Frozen): number {
    if (f.participants.length >= this.r.nodesCount) return 0;
    const leaseMs = Math.max(...f.replies.map((x) => x.sharedAccessLeaseMs + x.leaseDriftMarginMs));
    return Math.max(0, f.atMs + leaseMs - this.r.io.nowMs());
  }

  private checkStill(): void {
    const reason = this.r.recheck();
    if (reason !== undefined) throw new Aborted(reason);
  }

  /** Runs one step; a step that fails or aborts ends the recovery with that result. */
  private advance(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof Aborted) && !(err instanceof StepFailed)) throw err;
      this.finish(this.failed(err));
    }
  }

  private failed(err: Aborted | StepFailed): RecoveryResult {
    const durationMs = this.r.io.nowMs() - this.startMs;
    if (err instanceof Aborted) {
      this.log.warn({ reason: err.message }, 'recovery aborted');
      return { ok: false, reason: err.message, blame: [], staleTerm: false, aborted: true, noQuorum: err.noQuorum, durationMs };
    }
    const staleTerm = err.failures.some((f) => f.staleTerm);
    const blame = staleTerm ? [] : [...new Set(err.failures.map((f) => f.pnn))].sort((a, b) => a - b);
    this.log.warn({ step: err.step, blame, staleTerm, err: err.message }, 'recovery failed');
    return { ok: false, reason: err.message, blame, staleTerm, aborted: false, noQuorum: false, durationMs };
  }

  private finish(result: RecoveryResult): void {
    this.phase = { name: 'done' };
    this.done(result);
  }
}
