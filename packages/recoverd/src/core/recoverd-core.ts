// The recoverd core (DESIGN §5, §12): wires election, membership, the leader's loop and the
// local dbd. A state machine: events in — timers, recoverd messages, dbd events, the lock
// helper, and the answers to its own controls (onReply) — each handled to completion without
// waiting; everything out through RecoverdIo. A broken invariant (InvariantError) is thrown from
// the handler: the shell logs it and exits.
// At every heartbeat — one timer — it: sends one message to every peer recoverd (the leader's
// broadcast from a leader, a heartbeat from any other node), polls its own dbd's NodeState (PUB
// events may be lost), re-evaluates the majority, and reconciles the dbd with what recoverd knows
// (SetActive, SetLeader). A leader beats every LeaderBroadcastInterval (§5.1); any other node
// every LeaderTimeout / 4 when that is longer (`heartbeatIntervalMs`): four beats in the window in
// which a node must be heard to count as visible, at half the messages of the default interval.
import type { Logger, NodesFile, ReplyResult, RequestId, TunableValues } from '@ctdbng/common';
import { assert, InvariantError } from '@ctdbng/common';
import type { BodyOf, EnvelopeInit, Envelope } from '@ctdbng/protocol';
import { readAnswer } from './control.js';
import { Election } from './election.js';
import type { DbdTarget, NodeState, RecoverdIo, TimerId } from './io.js';
import { LeaderLoop } from './leader.js';
import { Membership } from './membership.js';

/**
 * The heartbeat timer's period: LeaderBroadcastInterval for a leader (its broadcast, §5.1);
 * LeaderTimeout / 4 for any other node when that is longer, so that a node is heard four times
 * within the LeaderTimeout that decides whether it is visible.
 */
export function heartbeatIntervalMs(t: Pick<TunableValues, 'leaderBroadcastIntervalMs' | 'leaderTimeoutMs'>, announcing: boolean): number {
  if (announcing) return t.leaderBroadcastIntervalMs;
  return Math.max(t.leaderBroadcastIntervalMs, Math.floor(t.leaderTimeoutMs / 4));
}

/** The controls to the own dbd (client socket), at most one of each kind in flight. */
type OwnRequest = 'getnodestate' | 'setActive' | 'setLeader';

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
  private wasLeader = false;
  private wasAnnouncing = false;
  private stopped = false;
  /** Own-dbd controls in flight, by request id; a kind stays busy until its answer has been handled. */
  private readonly ownPending = new Map<RequestId, OwnRequest>();
  /** The kinds of own-dbd control in flight, and when the newest of each was sent. */
  private readonly ownBusy = new Map<OwnRequest, number>();
  private leaderLinkDownSinceMs: number | undefined;
  private readonly pnns: number[];
  /** Inside io.request: an answer must not come now (core-io contract: never inside the request). */
  private requesting = false;

  constructor(private readonly cfg: RecoverdConfig, private readonly io: RecoverdIo) {
    this.pnns = cfg.nodes.nodes.filter((n) => !n.deleted).map((n) => n.pnn);
    const t = cfg.tunables;
    const nowMs = (): number => io.clock.nowMs();
    this.membership = new Membership(cfg.pnn, this.pnns, () => t.leaderTimeoutMs, nowMs());
    this.election = new Election({
      pnn: cfg.pnn, pnns: this.pnns, tunables: t, votes: io.votes, lock: io.lock, log: cfg.log,
      setTimer: (id, ms) => io.setTimer(id, ms), cancelTimer: (id) => io.cancelTimer(id), nowMs,
      send: (to, msg) => io.send(to, msg), random: () => io.random.next(),
      canStand: () => this.standCheck() === undefined,
      onChange: () => this.onElectionChange(),
      onElection: () => io.metrics.election(),
    });
    this.leader = new LeaderLoop({
      pnn: cfg.pnn, pnns: this.pnns, log: cfg.log, tunables: t, metrics: io.metrics, nowMs,
      request: (pnn, body, timeoutMs) => this.request(pnn, body, timeoutMs),
      setTimer: (id, ms) => io.setTimer(id, ms),
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

  /** Ends the core: its timers are cancelled; later events and answers are ignored. */
  stop(): void {
    this.stopped = true;
    this.election.stop();
    for (const id of ['heartbeat', 'monitor', 'lease-wait'] as const) this.io.cancelTimer(id);
  }

  onTimer(id: TimerId): void {
    if (this.stopped) return;
    switch (id) {
      case 'election':
      case 'lock':
        return this.election.onTimer(id);
      case 'heartbeat':
        return this.heartbeat();
      case 'monitor':
        return this.monitorPass();
      case 'lease-wait':
        return this.leader.onTimer(id);
    }
  }

  /** The answer to a control this core sent (io.request): to its own dbd or, as leader, to a node's. */
  onReply(id: RequestId, result: ReplyResult): void {
    assert(!this.requesting, 'an answer delivered inside its request');
    if (this.stopped) return;
    const own = this.ownPending.get(id);
    if (own === undefined) {
      this.leader.onReply(id, result); // an answer that came after its pass ended is dropped there
      return;
    }
    this.ownPending.delete(id);
    try {
      if (own === 'getnodestate') this.onOwnState(result);
      else {
        const a = readAnswer(this.cfg.pnn, own, result, 'ok');
        // Reconciled again at the next heartbeat.
        if (!a.ok) this.cfg.log.warn({ err: String(a.err) }, `${own} not applied by own dbd`);
      }
    } finally {
      if (![...this.ownPending.values()].includes(own)) this.ownBusy.delete(own);
    }
  }

  /** A message from another recoverd (decoded by the shell). */
  onPeerMessage(env: Envelope): void {
    if (this.stopped) return;
    const now = this.io.clock.nowMs();
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
    this.pollOwn();
    if (this.election.isLeader && (ev.recoveryWanted || ev.link) && !this.leader.running) this.io.setTimer('monitor', 0);
  }

  onLockHeld(): void {
    this.election.onLockHeld();
  }

  onLockLost(why: string): void {
    this.election.onLockLost(why);
  }

  /** Why this node may not stand or lead now, or undefined (§5.1: only a node that can be eligible). */
  standCheck(): string | undefined {
    const now = this.io.clock.nowMs();
    if (this.cfg.nodes.nodes[this.cfg.pnn]?.witness === true) return 'own node is a witness';
    if (this.own === undefined || now - this.own.atMs >= this.cfg.tunables.leaderTimeoutMs) return 'own dbd does not answer';
    if (this.own.state.stopped) return 'own node is stopped';
    if (this.own.state.banned) return 'own node is banned';
    if (!this.membership.hasMajority(now)) return 'no majority visible';
    return undefined;
  }

  /**
   * At every beat (`heartbeatIntervalMs`): one message to every peer — the leader's broadcast from
   * a leader, a heartbeat from any other node (either makes this node visible, §5.1) — and a poll
   * of the own dbd.
   */
  private heartbeat(): void {
    if (this.election.role !== 'follower') {
      const why = this.standCheck();
      if (why !== undefined) this.election.stepDown(why);
    }
    if (!this.election.announce()) for (const p of this.pnns) if (p !== this.cfg.pnn) this.io.send(p, { recoverdHeartbeat: { pnn: this.cfg.pnn, term: this.election.term } });
    this.pollOwn();
    this.io.setTimer('heartbeat', heartbeatIntervalMs(this.cfg.tunables, this.announcing()));
  }

  private announcing(): boolean {
    return this.election.role === 'leader' || this.election.role === 'locking';
  }

  /**
   * Sends a control to the own dbd unless one of its kind is in flight. A GetNodeState in flight
   * for a whole (non-leader) heartbeat, LeaderTimeout / 4 at most defaults, does not hold back the
   * next poll: one lost with a dbd that died under it would otherwise blind this node until its
   * LeaderTimeout expired, and a leader with no answer from its dbd for LeaderTimeout steps down
   * — though the new dbd would have answered at once. A slow answer still counts when it comes.
   */
  private requestOwn(kind: OwnRequest, body: EnvelopeInit): void {
    const now = this.io.clock.nowMs();
    const since = this.ownBusy.get(kind);
    if (since !== undefined && (kind !== 'getnodestate' || now - since < heartbeatIntervalMs(this.cfg.tunables, false))) return;
    this.ownBusy.set(kind, now);
    this.ownPending.set(this.request('own', body, this.cfg.tunables.leaderTimeoutMs), kind);
  }

  private request(to: DbdTarget, body: EnvelopeInit, timeoutMs: number): RequestId {
    this.requesting = true;
    try {
      return this.io.request(to, body, timeoutMs);
    } finally {
      this.requesting = false;
    }
  }

  private pollOwn(): void {
    this.requestOwn('getnodestate', { getNodeState: {} });
  }

  private onOwnState(result: ReplyResult): void {
    try {
      const a = readAnswer(this.cfg.pnn, 'getnodestate', result, 'nodeState');
      if (!a.ok) {
        this.cfg.log.debug({ err: String(a.err) }, 'own dbd did not answer GetNodeState');
        return;
      }
      const state = a.body;
      this.own = { state, atMs: this.io.clock.nowMs() };
      this.election.observeTerm(state.highestTerm, 'own dbd');
      this.checkLeaderLink(state);
      this.reconcile(state);
    } catch (err) {
      // As before the core was a state machine: a broken invariant ends the daemon; another
      // error of this poll (the vote file, say) is logged and the next heartbeat polls again.
      if (err instanceof InvariantError) throw err;
      this.cfg.log.debug({ err: String(err) }, 'own dbd did not answer GetNodeState');
    }
  }

  /**
   * A leader whose dbd this node's dbd has not heard for LeaderTimeout (its node links cut one
   * way, say) can recover nobody with us: stop following it in its term, so that PreVote lets an
   * election replace it (§5.1). Its recoverd may still be heard; that is not enough.
   */
  private checkLeaderLink(state: NodeState): void {
    const shunned = this.election.shunnedLeader;
    if (shunned !== undefined && state.linksUp.includes(shunned)) this.election.forgiveShunned();
    const leader = this.election.leader;
    if (leader === undefined || leader === this.cfg.pnn || state.linksUp.includes(leader)) {
      this.leaderLinkDownSinceMs = undefined;
      return;
    }
    const now = this.io.clock.nowMs();
    this.leaderLinkDownSinceMs ??= now;
    if (now - this.leaderLinkDownSinceMs < this.cfg.tunables.leaderTimeoutMs) return;
    this.leaderLinkDownSinceMs = undefined;
    this.election.shunLeader(`the dbd of leader ${leader} is not heard by this node's dbd`);
  }

  /** Brings the dbd in line with recoverd: active or not (§5.1), and who leads. */
  private reconcile(state: NodeState): void {
    const now = this.io.clock.nowMs();
    const active = this.membership.shouldBeActive(now);
    if (active === state.inactive) {
      this.cfg.log.info({ active, visible: this.membership.visible(now) }, active ? 'majority visible: node active' : 'no majority visible: node inactive');
      this.requestOwn('setActive', { setActive: { term: this.election.term, active } });
    }
    const leader = this.election.leader;
    if (state.hasLeader !== (leader !== undefined) || (leader !== undefined && state.leader !== leader)) this.tellLeader(0);
  }

  private tellLeader(lastRecoveryMs: number): void {
    const leader = this.election.leader;
    this.requestOwn('setLeader', { setLeader: { term: this.election.term, leader: leader ?? 0, hasLeader: leader !== undefined, lastRecoveryMs } });
  }

  private onElectionChange(): void {
    // A new leader (or a winner taking the lock) broadcast at once; its next broadcast comes one
    // LeaderBroadcastInterval later, not at the slower beat of a follower.
    const announcing = this.announcing();
    if (announcing && !this.wasAnnouncing) this.io.setTimer('heartbeat', this.cfg.tunables.leaderBroadcastIntervalMs);
    this.wasAnnouncing = announcing;
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

  private monitorPass(): void {
    if (this.leader.running || !this.election.isLeader) return;
    const term = this.election.term;
    this.leader.startPass(term, (delayMs) => {
      if (!this.stopped && this.election.isLeader) this.io.setTimer('monitor', this.election.term === term ? delayMs : 0);
    });
  }
}
