// The leader's work (DESIGN §5.2–5.3): every RecoverInterval one monitor pass — the state of
// every node, the decision, and when needed a recovery, its failures counted towards bans.
import { generationOf, type Logger } from '@ctdbng/common';
import { BanCounter } from './banning.js';
import { control, everyNode } from './control.js';
import type { DbdRpc, NodeState, RecoverdMetrics } from './io.js';
import { connectedViews, decideRecovery, hasQuorum, highestTerm, newLeaderMemory, noteServed, participantPnns, type LeaderMemory, type NodeViews } from './monitor.js';
import { runRecovery, type RecoveryResult } from './recovery.js';

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
  rpc: DbdRpc;
  log: Logger;
  tunables: LeaderTunables;
  metrics: RecoverdMetrics;
  nowMs(): number;
  random(): number;
  delay(ms: number): Promise<void>;
  /** The current term if this node still leads, else undefined. */
  leadingTerm(): number | undefined;
  /** A reason this node may not recover now (own node not eligible, no majority visible). */
  selfCheck(): string | undefined;
  /** A dbd has accepted a higher term than ours, or refused ours: a newer leader exists. */
  deposed(term: number | undefined, why: string): void;
  recovered(durationMs: number): void;
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

  constructor(private readonly d: LeaderDeps) {
    this.banning = new BanCounter(() => d.tunables.recoveryBanCount, Math.max(...d.pnns) + 1);
  }

  /** A new leadership: forget what a previous one knew; the first pass recovers (as CTDB does). */
  reset(): void {
    this.memory = newLeaderMemory();
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

  /** GetNodeState from every node; a node that does not answer within LeaderTimeout is not connected. */
  async gather(): Promise<Map<number, NodeState | undefined>> {
    const t = this.d.tunables;
    const { results } = await everyNode(this.d.pnns, (pnn) => control(this.d.rpc, pnn, 'getnodestate', { getNodeState: {} }, 'nodeState', t.leaderTimeoutMs));
    return new Map(this.d.pnns.map((p) => [p, results.get(p)]));
  }

  /** One monitor pass for `term`; returns the delay until the next one. */
  async pass(term: number): Promise<number> {
    const t = this.d.tunables;
    const views = await this.gather();
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
    if (!hasQuorum(participants.map((p) => connected.get(p)!), this.d.pnns.length)) {
      // §1: nothing happens without a quorum; every node stays frozen (or serves nothing).
      this.d.log.warn({ participants, nodes: this.d.pnns.length, reasons: decision.reasons }, 'recovery needed but no quorum');
      return t.recoverIntervalMs;
    }
    const sinceMs = this.d.nowMs() - this.lastRecoveryEndMs;
    if (sinceMs < t.rerecoveryTimeoutMs) return t.rerecoveryTimeoutMs - sinceMs;
    this.d.log.info({ reasons: decision.reasons }, 'recovery needed');
    const optional = new Set(participants.filter((p) => !decision.eligible.includes(p)));
    const result = await this.recover(term, participants, optional);
    return this.afterRecovery(result, views, participants);
  }

  private recheck(term: number): string | undefined {
    if (this.d.leadingTerm() !== term) return 'no longer leader in this term';
    return this.d.selfCheck();
  }

  private async recover(term: number, participants: readonly number[], optional: ReadonlySet<number>): Promise<RecoveryResult> {
    return runRecovery({
      rpc: this.d.rpc,
      log: this.d.log,
      tunables: this.d.tunables,
      leader: this.d.pnn,
      term,
      generation: this.nextGeneration(term),
      participants,
      optional,
      nodesCount: this.d.pnns.length,
      nowMs: () => this.d.nowMs(),
      delay: (ms) => this.d.delay(ms),
      recheck: () => this.recheck(term),
    });
  }

  private async afterRecovery(result: RecoveryResult, views: NodeViews, participants: readonly number[]): Promise<number> {
    const t = this.d.tunables;
    this.lastRecoveryEndMs = this.d.nowMs();
    if (result.ok) {
      this.d.metrics.recovery(result.durationMs, true);
      noteServed(this.memory, views, { generation: result.generation, vnnmap: result.vnnmap });
      this.banning.succeed(result.participants);
      this.lastRecoveryMs = Math.max(1, Math.round(result.durationMs));
      this.d.recovered(this.lastRecoveryMs);
      return t.recoverIntervalMs;
    }
    if (result.aborted) return t.recoverIntervalMs;
    this.d.metrics.recovery(result.durationMs, false);
    if (result.staleTerm) {
      this.d.deposed(undefined, 'a dbd refused our term');
      return t.recoverIntervalMs;
    }
    for (const pnn of result.blame) {
      if (this.banning.fail(pnn)) await this.ban(pnn);
      else this.d.log.warn({ node: pnn, failures: this.banning.count(pnn) }, 'recovery failure counted');
    }
    // Start over with a new generation (fresh node states) once RerecoveryTimeout has passed.
    return t.rerecoveryTimeoutMs;
  }

  private async ban(pnn: number): Promise<void> {
    const seconds = this.d.tunables.recoveryBanPeriodSeconds;
    const term = this.d.leadingTerm();
    if (term === undefined) return;
    this.d.log.warn({ node: pnn, seconds }, 'banning node: it failed RecoveryBanCount recoveries in a row');
    this.d.metrics.ban(pnn);
    try {
      await control(this.d.rpc, pnn, 'ban', { setNodeFlags: { banSeconds: seconds, term } }, 'ok', this.d.tunables.recoveryTimeoutMs);
    } catch (err) {
      // An unreachable node is left out of the next recovery anyway (it does not answer).
      this.d.log.warn({ node: pnn, err: String(err) }, 'ban not delivered');
    }
  }
}
