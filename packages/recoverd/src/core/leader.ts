// The leader's work (DESIGN §5.2–5.3): every RecoverInterval one monitor pass — the state of
// every node, the decision, and when needed a recovery, its failures counted towards bans.
// A pass is a state machine: gather (GetNodeState to every node) → recover (recovery.ts) → ban
// (SetNodeFlags to each node that reached RecoveryBanCount, one at a time) → done. Answers come
// in through onReply, the recovery's lease wait through onTimer; at the end `done(delayMs)` says
// when the next pass is due.
import { assert, generationOf, InvariantError, type Logger, type ReplyResult, type RequestId } from '@ctdbng/common';
import { BanCounter } from './banning.js';
import { EveryNode, readAnswer } from './control.js';
import type { NodeState, RecoverdMetrics, RequestFn } from './io.js';
import { connectedViews, decideRecovery, hasQuorum, highestTerm, newLeaderMemory, noteServed, participantPnns, type LeaderMemory, type NodeViews } from './monitor.js';
import { Recovery, type RecoveryResult } from './recovery.js';

export interface LeaderTunables {
  recoverIntervalMs: number;
  rerecoveryTimeoutMs: number;
  leaderTimeoutMs: number;
  recoveryTimeoutMs: number;
  recoveryDrainTimeoutMs: number;
  recoveryBanCount: number;
  recoveryBanPeriodSeconds: number;
}

export interface LeaderDeps {
  pnn: number;
  /** Non-deleted PNNs of the nodes file. */
  pnns: readonly number[];
  /** A control to node pnn's dbd; its answer comes back through LeaderLoop.onReply. */
  request: RequestFn<number>;
  /** The recovery's lease wait; its end comes back through LeaderLoop.onTimer('lease-wait'). */
  setTimer(id: 'lease-wait', ms: number): void;
  log: Logger;
  tunables: LeaderTunables;
  metrics: RecoverdMetrics;
  nowMs(): number;
  /** The current term if this node still leads, else undefined. */
  leadingTerm(): number | undefined;
  /** A reason this node may not recover now (own node not eligible, no majority visible). */
  selfCheck(): string | undefined;
  /** A dbd has accepted a higher term than ours, or refused ours: a newer leader exists. */
  deposed(term: number | undefined, why: string): void;
  recovered(durationMs: number): void;
}

/**
 * At a cold start a new leader passes again this soon while a node of the nodes file has not
 * answered yet (its daemons still starting, or the leader's connection to it not up yet).
 */
export const coldStartRetryMs = 100;

type PassPhase =
  | { name: 'gather'; step: EveryNode<'nodeState'> }
  | { name: 'recover'; recovery: Recovery }
  | { name: 'ban'; left: number[]; waiting: { id: RequestId; pnn: number } | undefined };

interface Pass {
  term: number;
  phase: PassPhase;
  done: (delayMs: number) => void;
}

export class LeaderLoop {
  memory: LeaderMemory = newLeaderMemory();
  private lastRecoveryEndMs = -Infinity;
  /** The term and the last sequence number of the generations this leader made (§1). */
  private seqTerm = 0;
  private seq = 0;
  /** Duration of the last successful recovery this node ran (0 = none yet). */
  lastRecoveryMs = 0;
  readonly banning: BanCounter;
  private pass: Pass | undefined;
  /** When this node became leader (reset). */
  private ledSinceMs = -Infinity;

  constructor(private readonly d: LeaderDeps) {
    this.banning = new BanCounter(() => d.tunables.recoveryBanCount, Math.max(...d.pnns) + 1);
  }

  /** A new leadership: forget what a previous one knew; the first pass recovers (as CTDB does). */
  reset(): void {
    this.memory = newLeaderMemory();
    this.ledSinceMs = this.d.nowMs();
  }

  /** A monitor pass is under way (at most one at a time). */
  get running(): boolean {
    return this.pass !== undefined;
  }

  /** What the pass under way is doing: 'gather', 'recover' or 'ban'; undefined between passes. */
  get phase(): PassPhase['name'] | undefined {
    return this.pass?.phase.name;
  }

  /** Starts one monitor pass for `term`; `done(delayMs)` gives the delay until the next one. */
  startPass(term: number, done: (delayMs: number) => void): void {
    assert(this.pass === undefined, 'a monitor pass started while another runs');
    const t = this.d.tunables;
    // GetNodeState from every node; a node that does not answer within LeaderTimeout is not connected.
    const step = new EveryNode('getnodestate', 'nodeState', this.d.pnns).send(this.d.request, () => ({ getNodeState: {} }), t.leaderTimeoutMs);
    this.pass = { term, phase: { name: 'gather', step }, done };
  }

  /** Takes the answer to one of the pass's controls; false when `id` is not one of them. */
  onReply(id: RequestId, result: ReplyResult): boolean {
    const p = this.pass;
    if (p === undefined) return false;
    const ph = p.phase;
    if (ph.name === 'gather') {
      if (!ph.step.take(id, result)) return false;
      if (ph.step.done) this.guarded(p, () => this.gathered(p, ph.step));
      return true;
    }
    if (ph.name === 'recover') return this.guarded(p, () => ph.recovery.onReply(id, result)) ?? true;
    if (ph.waiting?.id !== id) return false;
    this.guarded(p, () => this.banAnswered(p, ph, result));
    return true;
  }

  onTimer(id: 'lease-wait'): void {
    const p = this.pass;
    if (id !== 'lease-wait' || p?.phase.name !== 'recover') return;
    const recovery = p.phase.recovery;
    this.guarded(p, () => recovery.onLeaseWaitOver());
  }

  /** The next generation of this term: above every generation of a lower term and of this one. */
  private nextGeneration(term: number): number {
    if (this.seqTerm !== term) {
      this.seqTerm = term;
      this.seq = 0;
    }
    this.seq += 1;
    return generationOf(term, this.seq);
  }

  private gathered(p: Pass, step: EveryNode<'nodeState'>): void {
    const results = step.results();
    const views = new Map<number, NodeState | undefined>(this.d.pnns.map((pnn) => [pnn, results.get(pnn)]));
    const delayMs = this.decide(p, views);
    if (delayMs !== undefined) this.finish(p, delayMs);
  }

  /** The decision of a pass; a delay when it ends here, undefined when a recovery was started. */
  private decide(p: Pass, views: NodeViews): number | undefined {
    const t = this.d.tunables;
    const term = p.term;
    this.d.metrics.nodeStates(views);
    if (this.d.leadingTerm() !== term) return t.recoverIntervalMs;
    const seen = highestTerm(views);
    if (seen > term) {
      this.d.deposed(seen, 'a dbd accepted a higher term');
      return t.recoverIntervalMs;
    }
    const connected = connectedViews(views, this.d.pnn);
    const decision = decideRecovery(connected, this.memory);
    if (decision.reasons.length === 0) return t.recoverIntervalMs;
    const participants = participantPnns(connected);
    if (!decision.eligible.includes(this.d.pnn)) {
      this.d.log.warn({ reasons: decision.reasons }, 'recovery needed but own node is not eligible');
      return t.recoverIntervalMs;
    }
    if (!hasQuorum(participants.map((pnn) => connected.get(pnn)!), this.d.pnns.length)) {
      // §1: nothing happens without a quorum; every node stays frozen (or serves nothing).
      this.d.log.warn({ participants, nodes: this.d.pnns.length, reasons: decision.reasons }, 'recovery needed but no quorum');
      return t.recoverIntervalMs;
    }
    if (this.waitsForEveryNode(views, participants)) {
      this.d.log.debug({ participants }, 'cold start: waiting for every node before the first recovery');
      return coldStartRetryMs;
    }
    const sinceMs = this.d.nowMs() - this.lastRecoveryEndMs;
    if (sinceMs < t.rerecoveryTimeoutMs) return t.rerecoveryTimeoutMs - sinceMs;
    this.d.log.info({ reasons: decision.reasons }, 'recovery needed');
    const optional = new Set(participants.filter((pnn) => !decision.eligible.includes(pnn)));
    this.recover(p, views, participants, optional);
    return undefined;
  }

  /**
   * A cold start: no node that answered has ever installed a generation (nor forgotten one), so
   * no node can hold a lease or serve a record, and waiting costs nobody anything. Then, for up
   * to LeaderTimeout after becoming leader, the first recovery waits for every node of the nodes
   * file: one recovery of a majority would wait out the lease of the others (§2.2) and be
   * followed by a second as soon as they answer.
   */
  private waitsForEveryNode(views: NodeViews, participants: readonly number[]): boolean {
    if (participants.length === this.d.pnns.length) return false;
    if (this.d.nowMs() - this.ledSinceMs >= this.d.tunables.leaderTimeoutMs) return false;
    for (const st of views.values()) if (st !== undefined && (Number(st.generation) !== 0 || st.amnesiac)) return false;
    return true;
  }

  private recover(p: Pass, views: NodeViews, participants: number[], optional: ReadonlySet<number>): void {
    const term = p.term;
    const d = this.d;
    const recovery = new Recovery(
      {
        io: { request: d.request, setTimer: (id, ms) => d.setTimer(id, ms), nowMs: () => d.nowMs() },
        log: d.log, tunables: d.tunables, leader: d.pnn, term, generation: this.nextGeneration(term), participants, optional, nodesCount: d.pnns.length,
        recheck: () => (d.leadingTerm() !== term ? 'no longer leader in this term' : d.selfCheck()),
      },
      (result) => this.afterRecovery(p, result, views),
    );
    p.phase = { name: 'recover', recovery };
    recovery.start();
  }

  private afterRecovery(p: Pass, result: RecoveryResult, views: NodeViews): void {
    const t = this.d.tunables;
    this.lastRecoveryEndMs = this.d.nowMs();
    if (result.ok) {
      this.d.metrics.recovery(result.durationMs, true);
      noteServed(this.memory, views, { generation: result.generation, vnnmap: result.vnnmap });
      this.banning.succeed(result.participants);
      this.lastRecoveryMs = Math.max(1, Math.round(result.durationMs));
      this.d.recovered(this.lastRecoveryMs);
      return this.finish(p, t.recoverIntervalMs);
    }
    if (result.aborted) return this.finish(p, t.recoverIntervalMs);
    this.d.metrics.recovery(result.durationMs, false);
    if (result.staleTerm) {
      this.d.deposed(undefined, 'a dbd refused our term');
      return this.finish(p, t.recoverIntervalMs);
    }
    const ban = { name: 'ban' as const, left: [...result.blame], waiting: undefined };
    p.phase = ban;
    this.banNext(p, ban);
  }

  /** Counts the failure of each blamed node in turn; a node at RecoveryBanCount is banned before the next is counted. */
  private banNext(p: Pass, ph: Extract<PassPhase, { name: 'ban' }>): void {
    ph.waiting = undefined;
    for (let pnn = ph.left.shift(); pnn !== undefined; pnn = ph.left.shift()) {
      if (!this.banning.fail(pnn)) {
        this.d.log.warn({ node: pnn, failures: this.banning.count(pnn) }, 'recovery failure counted');
        continue;
      }
      const seconds = this.d.tunables.recoveryBanPeriodSeconds;
      const term = this.d.leadingTerm();
      if (term === undefined) continue;
      this.d.log.warn({ node: pnn, seconds }, 'banning node: it failed RecoveryBanCount recoveries in a row');
      this.d.metrics.ban(pnn);
      ph.waiting = { id: this.d.request(pnn, { setNodeFlags: { banSeconds: seconds, term } }, this.d.tunables.recoveryTimeoutMs), pnn };
      return;
    }
    // Start over with a new generation (fresh node states) once RerecoveryTimeout has passed.
    this.finish(p, this.d.tunables.rerecoveryTimeoutMs);
  }

  private banAnswered(p: Pass, ph: Extract<PassPhase, { name: 'ban' }>, result: ReplyResult): void {
    const pnn = ph.waiting!.pnn;
    const a = readAnswer(pnn, 'ban', result, 'ok');
    // An unreachable node is left out of the next recovery anyway (it does not answer).
    if (!a.ok) this.d.log.warn({ node: pnn, err: String(a.err) }, 'ban not delivered');
    this.banNext(p, ph);
  }

  private finish(p: Pass, delayMs: number): void {
    if (this.pass !== p) return;
    this.pass = undefined;
    p.done(delayMs);
  }

  /**
   * Runs one step of pass `p`. A broken invariant ends the daemon (it is thrown on); any other
   * error ends the pass — logged, the next one after RecoverInterval — as an error thrown by an
   * awaited step did before.
   */
  private guarded<T>(p: Pass, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InvariantError) throw err;
      this.d.log.error({ err }, 'monitor pass failed');
      this.finish(p, this.d.tunables.recoverIntervalMs);
      return undefined;
    }
  }
}
