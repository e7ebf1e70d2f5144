// The leader's work (DESIGN §5.2–5.3): every RecoverInterval one monitor pass — the state of
// every node, the decision, and when needed a recovery, its failures counted towards bans.
import type { Logger } from '@ctdbng/common';
import { BanCounter } from './banning.js';
import { control, everyNode } from './control.js';
import type { DbdRpc, NodeState, RecoverdMetrics } from './io.js';
import { decideRecovery, highestTerm, newLeaderMemory, noteServed, type LeaderMemory, type NodeViews } from './monitor.js';
import { runRecovery, type RecoveryResult } from './recovery.js';
import { currentGeneration } from './zombie-guard.js';

export interface LeaderTunables {
  recoverIntervalMs: number;
  rerecoveryTimeoutMs: number;
  leaderTimeoutMs: number;
  recoveryTimeoutMs: number;
  recoveryDrainTimeoutMs: number;
  sharedAccessLeaseMs: number;
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
    const own = views.get(this.d.pnn);
    if (this.memory.installed === undefined && own !== undefined && own.generation !== 0) {
      this.memory.installed = { generation: own.generation, vnnmap: [...own.vnnmap] };
    }
    const decision = decideRecovery(views, this.memory);
    if (decision.reasons.length === 0) return t.recoverIntervalMs;
    const sinceMs = this.d.nowMs() - this.lastRecoveryEndMs;
    if (sinceMs < t.rerecoveryTimeoutMs) return t.rerecoveryTimeoutMs - sinceMs;
    this.d.log.info({ reasons: decision.reasons }, 'recovery needed');
    const result = await this.recover(term, views, decision.eligible);
    return this.afterRecovery(result, views, decision.eligible);
  }

  private recheck(term: number, eligible: readonly number[]): string | undefined {
    if (this.d.leadingTerm() !== term) return 'no longer leader in this term';
    if (!eligible.includes(this.d.pnn)) return 'own node is not eligible';
    return this.d.selfCheck();
  }

  private async recover(term: number, views: NodeViews, eligible: readonly number[]): Promise<RecoveryResult> {
    const installed = this.memory.installed;
    const generations = eligible.map((p) => views.get(p)!.generation);
    return runRecovery({
      rpc: this.d.rpc,
      log: this.d.log,
      tunables: this.d.tunables,
      leader: this.d.pnn,
      term,
      participants: eligible,
      currentGeneration: currentGeneration({ installed: installed?.generation, own: views.get(this.d.pnn)?.generation ?? 0, eligible: generations }),
      unfrozenMembers: (installed?.vnnmap ?? []).filter((p) => views.get(p) === undefined),
      random: () => this.d.random(),
      nowMs: () => this.d.nowMs(),
      delay: (ms) => this.d.delay(ms),
      recheck: () => this.recheck(term, eligible),
    });
  }

  private async afterRecovery(result: RecoveryResult, views: NodeViews, eligible: readonly number[]): Promise<number> {
    const t = this.d.tunables;
    this.lastRecoveryEndMs = this.d.nowMs();
    if (result.ok) {
      this.d.metrics.recovery(result.durationMs, true);
      noteServed(this.memory, views, { generation: result.generation, vnnmap: eligible });
      this.banning.succeed(eligible);
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
    this.d.log.warn({ node: pnn, seconds }, 'banning node: it failed RecoveryBanCount recoveries in a row');
    this.d.metrics.ban(pnn);
    try {
      await control(this.d.rpc, pnn, 'ban', { setNodeFlags: { banSeconds: seconds } }, 'ok', this.d.tunables.recoveryTimeoutMs);
    } catch (err) {
      // An unreachable node is left out of the next recovery anyway (it does not answer).
      this.d.log.warn({ node: pnn, err: String(err) }, 'ban not delivered');
    }
  }
}
