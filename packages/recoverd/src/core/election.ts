// Leader election (DESIGN §5.1): Raft-like terms among the recoverds of the nodes file.
// - A candidate increments its term, votes for itself and asks every peer (VoteRequest). It
//   wins with votes from a majority of the nodes file (non-deleted lines), then — if a cluster
//   lock is configured — must also take the lock before it acts as leader.
// - A node grants at most one vote per term; `(term, votedFor)` is saved before the reply is
//   sent, so a restarted recoverd never votes twice in a term.
// - A higher term seen in a vote, a reply or a broadcast replaces ours (a leader steps down).
// - A node refuses to vote (and ignores the request's term) while it hears a live leader:
//   a node coming back from a partition with an inflated term cannot depose a working leader.
//   For the same reason a follower accepts the broadcast of a live leader of a lower term than
//   its own (it just does not adopt that term); safety does not rest on this: every control
//   carries the leader's term and dbd refuses a lower one than it has seen.
// - A node stands only when `canStand()` says so (not stopped, not banned, a majority visible).
// - Election timeouts are randomized: 100–400 ms at start, then LeaderTimeout × [1, 2); a node
//   that could not stand when its timer fired looks again after 100–400 ms.
// - A leader broadcasts when it wins and then at each of the core's heartbeats (`announce`,
//   every LeaderBroadcastInterval): the broadcast is that node's heartbeat, one message per
//   peer and one timer, not one of each per purpose.
import type { Logger } from '@ctdbng/common';
import type { BodyOf } from '@ctdbng/protocol';
import type { ClusterLock, PeerMessage, VoteStore } from './io.js';
import { majorityOf } from './membership.js';

/** follower → candidate → (locking →) leader; any higher term or failure → follower. */
export type Role = 'follower' | 'candidate' | 'locking' | 'leader';

export const startDelayMsMin = 100;
export const startDelayMsMax = 400;

export interface ElectionTunables {
  leaderTimeoutMs: number;
  leaderBroadcastIntervalMs: number;
  clusterLockTimeoutMs: number;
}

/** The election's timers (a part of the core's TimerId). */
export type ElectionTimerId = 'election' | 'lock';

export interface ElectionDeps {
  pnn: number;
  /** Non-deleted PNNs of the nodes file, self included. */
  pnns: readonly number[];
  tunables: ElectionTunables;
  votes: VoteStore;
  lock: ClusterLock | undefined;
  log: Logger;
  setTimer(id: ElectionTimerId, delayMs: number): void;
  cancelTimer(id: ElectionTimerId): void;
  /** Monotonic milliseconds. */
  nowMs(): number;
  send(to: number, msg: PeerMessage): void;
  /** Uniform in [0, 1). */
  random(): number;
  canStand(): boolean;
  /** Called whenever role, leader or term changes. */
  onChange(): void;
  onElection(): void;
}

export class Election {
  private termValue = 0;
  private votedFor: number | undefined;
  private roleValue: Role = 'follower';
  private leaderPnn: number | undefined;
  private leaderHeardMs = -Infinity;
  private readonly votesGot = new Set<number>();
  /** A leader this node stopped following in its term (shunLeader): its broadcasts are ignored. */
  private shunned: { leader: number; term: number } | undefined;

  constructor(private readonly d: ElectionDeps) {}

  get term(): number {
    return this.termValue;
  }
  get role(): Role {
    return this.roleValue;
  }
  /** The leader this node follows (itself when leading), if it heard one within LeaderTimeout. */
  get leader(): number | undefined {
    return this.leaderLive() ? this.leaderPnn : undefined;
  }
  get isLeader(): boolean {
    return this.roleValue === 'leader';
  }

  start(): void {
    const saved = this.d.votes.load();
    this.termValue = saved.term;
    this.votedFor = saved.votedFor;
    this.d.log.info({ term: this.termValue, votedFor: this.votedFor }, 'election state loaded');
    // Never heard a leader: stand soon, at a random moment so that nodes started together split.
    this.d.setTimer('election', startDelayMsMin + Math.floor(this.d.random() * (startDelayMsMax - startDelayMsMin)));
  }

  onTimer(id: ElectionTimerId): void {
    if (id === 'election') this.onElectionTimer();
    else this.stepDown('cluster lock not taken within ClusterLockTimeout');
  }

  onVoteRequest(m: BodyOf<'voteRequest'>): void {
    const candidate = m.candidate;
    if (candidate === this.d.pnn || !this.d.pnns.includes(candidate)) return;
    const refuse = (): void => this.d.send(candidate, { voteReply: { term: this.termValue, granted: false, voter: this.d.pnn } });
    if (m.term < this.termValue) return refuse();
    if (this.leaderLive() && this.leaderPnn !== candidate) return refuse();
    if (m.term > this.termValue) this.adoptTerm(m.term, `vote request from ${candidate}`);
    if (this.votedFor !== undefined && this.votedFor !== candidate) return refuse();
    this.votedFor = candidate;
    this.d.votes.save({ term: this.termValue, votedFor: candidate }); // before the reply (§5.1)
    this.d.send(candidate, { voteReply: { term: this.termValue, granted: true, voter: this.d.pnn } });
    this.armElectionTimer();
  }

  onVoteReply(m: BodyOf<'voteReply'>): void {
    if (m.term > this.termValue) return this.adoptTerm(m.term, `vote reply from ${m.voter}`);
    if (this.roleValue !== 'candidate' || m.term !== this.termValue || !m.granted) return;
    if (!this.d.pnns.includes(m.voter)) return;
    this.votesGot.add(m.voter);
    this.checkWon();
  }

  onLeaderBroadcast(m: BodyOf<'leaderBroadcast'>): void {
    if (m.leader === this.d.pnn || !this.d.pnns.includes(m.leader)) return;
    if (this.shunned !== undefined && this.shunned.leader === m.leader && m.term <= this.shunned.term) return;
    if (m.term > this.termValue) this.adoptTerm(m.term, `broadcast from ${m.leader}`);
    if (m.term === this.termValue && this.roleValue !== 'follower') {
      // Two winners of one term cannot happen (one vote per term, majorities intersect) unless a
      // state file was lost; the safe reaction is to give way.
      this.d.log.error({ term: m.term, other: m.leader }, 'another leader in my term');
      this.stepDown('another leader in the same term');
    }
    if (m.term < this.termValue) {
      // A leader of a lower term: a leader of ours outranks it (it steps down on our broadcast);
      // a follower or candidate follows it unless it follows another live leader.
      if (this.roleValue === 'leader' || this.roleValue === 'locking') return;
      if (this.roleValue === 'follower' && this.leaderLive() && this.leaderPnn !== m.leader) return;
      if (this.roleValue === 'candidate') this.becomeFollower();
    }
    const changed = this.leaderPnn !== m.leader || !this.leaderLive();
    this.leaderPnn = m.leader;
    this.leaderHeardMs = this.d.nowMs();
    if (changed) {
      this.d.log.info({ leader: m.leader, term: m.term }, 'following leader');
      this.d.onChange();
    }
  }

  /** A term seen elsewhere (the highest term a dbd has accepted). */
  observeTerm(term: number, where: string): void {
    if (term > this.termValue) this.adoptTerm(term, where);
  }

  /** The leader this node stopped following (shunLeader); its broadcasts of that term are ignored. */
  get shunnedLeader(): number | undefined {
    return this.shunned?.leader;
  }

  /**
   * The reason for shunning is gone (this node's dbd hears the leader's again): its broadcasts
   * count again. Without this a follower would stay leaderless for as long as that leader lasts,
   * since the nodes that follow it refuse every vote.
   */
  forgiveShunned(): void {
    if (this.shunned === undefined) return;
    this.d.log.info({ leader: this.shunned.leader, term: this.shunned.term }, 'the shunned leader is heard again');
    this.shunned = undefined;
  }

  /** Stops following the current leader in its term (its broadcasts ignored): an election may replace it. */
  shunLeader(reason: string): void {
    if (this.roleValue !== 'follower' || this.leaderPnn === undefined) return;
    this.d.log.warn({ leader: this.leaderPnn, term: this.termValue, reason }, 'no longer following the leader');
    this.shunned = { leader: this.leaderPnn, term: this.termValue };
    this.leaderPnn = undefined;
    this.leaderHeardMs = -Infinity;
    this.d.onChange();
    this.d.setTimer('election', Math.floor(this.d.random() * this.d.tunables.leaderBroadcastIntervalMs));
  }

  stepDown(reason: string): void {
    if (this.roleValue === 'follower') return;
    this.d.log.warn({ term: this.termValue, reason }, 'stepping down');
    this.becomeFollower();
    this.leaderPnn = undefined;
    this.d.onChange();
    this.armElectionTimer();
  }

  onLockHeld(): void {
    if (this.roleValue !== 'locking') {
      this.d.lock?.release(); // a helper answering after we gave up
      return;
    }
    this.d.cancelTimer('lock');
    this.becomeLeader();
  }

  onLockLost(why: string): void {
    if (this.roleValue === 'locking' || this.roleValue === 'leader') this.stepDown(`cluster lock lost: ${why}`);
  }

  stop(): void {
    for (const id of ['election', 'lock'] as const) this.d.cancelTimer(id);
    this.d.lock?.release();
  }

  private leaderLive(): boolean {
    if (this.roleValue === 'leader' || this.roleValue === 'locking') return true;
    return this.leaderPnn !== undefined && this.d.nowMs() - this.leaderHeardMs < this.d.tunables.leaderTimeoutMs;
  }

  private onElectionTimer(): void {
    if (this.roleValue === 'leader' || this.roleValue === 'locking') return;
    if (this.leaderLive()) {
      const leftMs = this.leaderHeardMs + this.d.tunables.leaderTimeoutMs - this.d.nowMs();
      this.d.setTimer('election', Math.max(1, leftMs) + Math.floor(this.d.random() * this.d.tunables.leaderBroadcastIntervalMs));
      return;
    }
    if (!this.d.canStand()) {
      // Not eligible yet (its own dbd not answering, no majority heard: both usual while a
      // cluster starts) or not at all: look again soon, at a random moment as at start, rather
      // than a whole LeaderTimeout later. Nothing is sent until the node stands.
      if (this.roleValue === 'candidate') this.becomeFollower();
      this.d.setTimer('election', startDelayMsMin + Math.floor(this.d.random() * (startDelayMsMax - startDelayMsMin)));
      return;
    }
    this.standForElection();
  }

  private standForElection(): void {
    this.termValue += 1;
    this.votedFor = this.d.pnn;
    this.d.votes.save({ term: this.termValue, votedFor: this.d.pnn });
    this.roleValue = 'candidate';
    this.leaderPnn = undefined;
    this.votesGot.clear();
    this.votesGot.add(this.d.pnn);
    this.d.onElection();
    this.d.log.info({ term: this.termValue }, 'standing for election');
    for (const p of this.d.pnns) if (p !== this.d.pnn) this.d.send(p, { voteRequest: { term: this.termValue, candidate: this.d.pnn } });
    this.armElectionTimer();
    this.d.onChange();
    this.checkWon();
  }

  private checkWon(): void {
    if (this.roleValue !== 'candidate' || this.votesGot.size < majorityOf(this.d.pnns.length)) return;
    this.d.log.info({ term: this.termValue, votes: [...this.votesGot] }, 'election won');
    this.leaderPnn = this.d.pnn;
    if (this.d.lock === undefined) return this.becomeLeader();
    // Broadcast while taking the lock so that followers do not start another election meanwhile.
    this.roleValue = 'locking';
    this.d.cancelTimer('election');
    this.d.setTimer('lock', this.d.tunables.clusterLockTimeoutMs);
    this.d.lock.take();
    this.announce();
    this.d.onChange();
  }

  private becomeLeader(): void {
    this.roleValue = 'leader';
    this.leaderPnn = this.d.pnn;
    this.d.cancelTimer('election');
    this.d.log.info({ term: this.termValue }, 'leader');
    this.announce();
    this.d.onChange();
  }

  /**
   * A leader (or a winner taking the cluster lock) tells every peer: returns whether it did. The
   * core calls this at every heartbeat, every LeaderBroadcastInterval, and sends its plain
   * heartbeat only when this returns false.
   */
  announce(): boolean {
    if (this.roleValue !== 'leader' && this.roleValue !== 'locking') return false;
    for (const p of this.d.pnns) if (p !== this.d.pnn) this.d.send(p, { leaderBroadcast: { term: this.termValue, leader: this.d.pnn } });
    return true;
  }

  private adoptTerm(term: number, where: string): void {
    const wasLeading = this.roleValue !== 'follower';
    this.termValue = term;
    this.votedFor = undefined;
    this.d.votes.save({ term, votedFor: undefined });
    this.d.log.info({ term, where }, 'newer term seen');
    if (wasLeading) {
      this.becomeFollower();
      this.leaderPnn = undefined;
      this.armElectionTimer();
    }
    this.d.onChange();
  }

  private becomeFollower(): void {
    if (this.roleValue === 'locking' || this.roleValue === 'leader') {
      this.d.cancelTimer('lock');
      this.d.lock?.release();
    }
    this.roleValue = 'follower';
    this.votesGot.clear();
  }

  private armElectionTimer(): void {
    const lt = this.d.tunables.leaderTimeoutMs;
    this.d.setTimer('election', lt + Math.floor(this.d.random() * lt));
  }
}
