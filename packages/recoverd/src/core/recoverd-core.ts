// The recoverd core (DESIGN §5, §12): wires election, membership, the leader's loop and the
// local dbd. Events in (timers, recoverd messages, dbd events, lock helper); out through RecoverdIo.
// Every LeaderBroadcastInterval ("heartbeat") it: sends a heartbeat to every peer recoverd,
// polls its own dbd's NodeState (PUB events may be lost), re-evaluates the majority, and
// reconciles the dbd with what recoverd knows (SetActive, SetLeader).
import type { Logger, NodesFile, TunableValues } from '@ctdbng/common';
import { InvariantError } from '@ctdbng/common';
import type { BodyOf, Envelope } from '@ctdbng/protocol';
import { control } from './control.js';
import { Election } from './election.js';
import type { NodeState, RecoverdIo, TimerId } from './io.js';
import { LeaderLoop } from './leader.js';
import { Membership } from './membership.js';

export interface RecoverdConfig {
  pnn: number;
  nodes: NodesFile;
  /** Live values: setvar on recoverd is not offered, but the object may change under us. */
  tunables: TunableValues;
  log: Logger;
}

export class RecoverdCore {
  readonly election: Election;
  readonly membership: Membership;
  readonly leader: LeaderLoop;
  private own: { state: NodeState; atMs: number } | undefined;
  private ownPolling = false;
  private passRunning = false;
  private wasLeader = false;
  private stopped = false;
  private inflight = { setActive: false, setLeader: false };
  private leaderLinkDownSinceMs: number | undefined;
  private readonly pnns: number[];

  constructor(private readonly cfg: RecoverdConfig, private readonly io: RecoverdIo) {
    this.pnns = cfg.nodes.nodes.filter((n) => !n.deleted).map((n) => n.pnn);
    const t = cfg.tunables;
    this.membership = new Membership(cfg.pnn, this.pnns, () => t.leaderTimeoutMs, io.nowMs());
    this.election = new Election({
      pnn: cfg.pnn, pnns: this.pnns, tunables: t, votes: io.votes, lock: io.lock, log: cfg.log,
      setTimer: (id, ms) => io.setTimer(id, ms), cancelTimer: (id) => io.cancelTimer(id), nowMs: () => io.nowMs(),
      send: (to, msg) => io.send(to, msg), random: () => io.random(),
      canStand: () => this.standCheck() === undefined,
      onChange: () => this.onElectionChange(),
      onElection: () => io.metrics.election(),
    });
    this.leader = new LeaderLoop({
      pnn: cfg.pnn, pnns: this.pnns, rpc: io.rpc, log: cfg.log, tunables: t, metrics: io.metrics,
      nowMs: () => io.nowMs(), random: () => io.random(), delay: (ms) => io.delay(ms),
      leadingTerm: () => (this.election.isLeader ? this.election.term : undefined),
      selfCheck: () => this.standCheck(),
      deposed: (term, why) => {
        if (term !== undefined) this.election.observeTerm(term, why);
        this.election.stepDown(why);
      },
      recovered: (ms) => this.tellLeader(ms),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  start(): void {
    this.election.start();
    this.io.setTimer('heartbeat', 0);
  }

  stop(): void {
    this.stopped = true;
    this.election.stop();
    for (const id of ['heartbeat', 'monitor'] as const) this.io.cancelTimer(id);
  }

  onTimer(id: TimerId): void {
    if (this.stopped) return;
    switch (id) {
      case 'election':
      case 'broadcast':
      case 'lock':
        return this.election.onTimer(id);
      case 'heartbeat':
        return this.heartbeat();
      case 'monitor':
        return void this.monitorPass();
    }
  }

  /** A message from another recoverd (decoded by the shell). */
  onPeerMessage(env: Envelope): void {
    if (this.stopped) return;
    const now = this.io.nowMs();
    if (env.voteRequest) {
      this.membership.heard(env.voteRequest.candidate ?? -1, now);
      this.election.onVoteRequest(env.voteRequest as BodyOf<'voteRequest'>);
    } else if (env.recoverdHeartbeat) {
      this.membership.heard(env.recoverdHeartbeat.pnn ?? -1, now);
    } else if (env.voteReply) {
      this.membership.heard(env.voteReply.voter ?? -1, now);
      this.election.onVoteReply(env.voteReply as BodyOf<'voteReply'>);
    } else if (env.leaderBroadcast) {
      this.membership.heard(env.leaderBroadcast.leader ?? -1, now);
      this.election.onLeaderBroadcast(env.leaderBroadcast as BodyOf<'leaderBroadcast'>);
    }
  }

  /** Something happened on the local dbd: look now rather than at the next heartbeat. */
  onDbdEvent(ev: { recoveryWanted?: unknown; link?: unknown; freeze?: unknown }): void {
    if (this.stopped) return;
    void this.pollOwn();
    if (this.election.isLeader && (ev.recoveryWanted || ev.link) && !this.passRunning) this.io.setTimer('monitor', 0);
  }

  onLockHeld(): void {
    this.election.onLockHeld();
  }

  onLockLost(why: string): void {
    this.election.onLockLost(why);
  }

  /** Why this node may not stand or lead now, or undefined (§5.1: only a node that can be eligible). */
  standCheck(): string | undefined {
    const now = this.io.nowMs();
    if (this.cfg.nodes.nodes[this.cfg.pnn]?.witness === true) return 'own node is a witness';
    if (this.own === undefined || now - this.own.atMs >= this.cfg.tunables.leaderTimeoutMs) return 'own dbd does not answer';
    if (this.own.state.stopped) return 'own node is stopped';
    if (this.own.state.banned) return 'own node is banned';
    if (!this.membership.hasMajority(now)) return 'no majority visible';
    return undefined;
  }

  private heartbeat(): void {
    for (const p of this.pnns) if (p !== this.cfg.pnn) this.io.send(p, { recoverdHeartbeat: { pnn: this.cfg.pnn, term: this.election.term } });
    if (this.election.role !== 'follower') {
      const why = this.standCheck();
      if (why !== undefined) this.election.stepDown(why);
    }
    void this.pollOwn();
    this.io.setTimer('heartbeat', this.cfg.tunables.leaderBroadcastIntervalMs);
  }

  private async pollOwn(): Promise<void> {
    if (this.ownPolling) return;
    this.ownPolling = true;
    try {
      const state = await control(this.ownRpc(), this.cfg.pnn, 'getnodestate', { getNodeState: {} }, 'nodeState', this.cfg.tunables.leaderTimeoutMs);
      this.own = { state, atMs: this.io.nowMs() };
      this.election.observeTerm(state.highestTerm, 'own dbd');
      this.checkLeaderLink(state);
      this.reconcile(state);
    } catch (err) {
      this.guard(err);
      this.cfg.log.debug({ err: String(err) }, 'own dbd did not answer GetNodeState');
    } finally {
      this.ownPolling = false;
    }
  }

  /**
   * A leader whose dbd this node's dbd has not heard for LeaderTimeout (its node links cut one
   * way, say) can recover nobody with us: stop following it in its term, so that PreVote lets an
   * election replace it (§5.1). Its recoverd may still be heard; that is not enough.
   */
  private checkLeaderLink(state: NodeState): void {
    const leader = this.election.leader;
    if (leader === undefined || leader === this.cfg.pnn || state.linksUp.includes(leader)) {
      this.leaderLinkDownSinceMs = undefined;
      return;
    }
    const now = this.io.nowMs();
    this.leaderLinkDownSinceMs ??= now;
    if (now - this.leaderLinkDownSinceMs < this.cfg.tunables.leaderTimeoutMs) return;
    this.leaderLinkDownSinceMs = undefined;
    this.election.shunLeader(`the dbd of leader ${leader} is not heard by this node's dbd`);
  }

  private ownRpc(): RecoverdIo['rpc'] {
    return { request: (_pnn, body, timeoutMs) => this.io.own.request(body, timeoutMs) };
  }

  /** Brings the dbd in line with recoverd: active or not (§5.1), and who leads. */
  private reconcile(state: NodeState): void {
    const active = this.membership.shouldBeActive(this.io.nowMs());
    if (active === state.inactive) {
      this.cfg.log.info({ active, visible: this.membership.visible(this.io.nowMs()) }, active ? 'majority visible: node active' : 'no majority visible: node inactive');
      this.sendOwn('setActive', { setActive: { term: this.election.term, active } });
    }
    const leader = this.election.leader;
    if (state.hasLeader !== (leader !== undefined) || (leader !== undefined && state.leader !== leader)) this.tellLeader(0);
  }

  private tellLeader(lastRecoveryMs: number): void {
    const leader = this.election.leader;
    this.sendOwn('setLeader', { setLeader: { term: this.election.term, leader: leader ?? 0, hasLeader: leader !== undefined, lastRecoveryMs } });
  }

  private sendOwn(kind: 'setActive' | 'setLeader', body: Parameters<RecoverdIo['own']['request']>[0]): void {
    if (this.inflight[kind]) return;
    this.inflight[kind] = true;
    control(this.ownRpc(), this.cfg.pnn, kind, body, 'ok', this.cfg.tunables.leaderTimeoutMs)
      .catch((err: unknown) => {
        // Reconciled again at the next heartbeat.
        this.cfg.log.warn({ err: String(err) }, `${kind} not applied by own dbd`);
      })
      .finally(() => {
        this.inflight[kind] = false;
      });
  }

  private onElectionChange(): void {
    const leading = this.election.isLeader;
    this.io.metrics.leadership(leading, this.election.term);
    if (leading && !this.wasLeader) {
      this.leader.reset();
      this.io.setTimer('monitor', 0);
    } else if (!leading && this.wasLeader) {
      this.io.cancelTimer('monitor');
    }
    this.wasLeader = leading;
    if (this.own !== undefined) this.reconcile(this.own.state);
  }

  private async monitorPass(): Promise<void> {
    if (this.passRunning || !this.election.isLeader) return;
    this.passRunning = true;
    const term = this.election.term;
    let delayMs = this.cfg.tunables.recoverIntervalMs;
    try {
      delayMs = await this.leader.pass(term);
    } catch (err) {
      this.guard(err);
      this.cfg.log.error({ err }, 'monitor pass failed');
    } finally {
      this.passRunning = false;
      if (!this.stopped && this.election.isLeader) this.io.setTimer('monitor', this.election.term === term ? delayMs : 0);
    }
  }

  /** A broken invariant ends the daemon (STYLE §2); other errors are the caller's to log. */
  private guard(err: unknown): void {
    if (err instanceof InvariantError) this.io.fatal(err);
  }
}
