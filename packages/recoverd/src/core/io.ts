// What the recoverd core needs from the outside (DESIGN §12, packages/common/src/core-io.ts):
// messages to other recoverds, controls to dbds, timers, a clock, randomness, the vote store and
// the cluster lock. The core never waits: a control is a request whose answer comes back as
// core.onReply(id, result); a wait is a timer whose end comes back as core.onTimer(id). The shell
// implements this with ZeroMQ, real timers and files; tests and test/sim with in-memory fakes.
import type { CoreClock, CoreRandom, CoreTimers, RequestId } from '@ctdbng/common';
import type { BodyOf, EnvelopeInit } from '@ctdbng/protocol';

/** recoverd ↔ recoverd messages (fire-and-forget; the sender's pnn is inside each). */
export type PeerMessage =
  | { voteRequest: BodyOf<'voteRequest'> }
  | { voteReply: BodyOf<'voteReply'> }
  | { leaderBroadcast: BodyOf<'leaderBroadcast'> }
  | { recoverdHeartbeat: BodyOf<'recoverdHeartbeat'> };

export type NodeState = BodyOf<'nodeState'>;

/** Where a control goes: node `pnn`'s dbd over its node socket, or this node's dbd over its client socket. */
export type DbdTarget = number | 'own';

/**
 * Sends a control and returns its id at once; the answer (the reply envelope, an Error reply
 * included, or no reply within timeoutMs, or not sent) comes back later as onReply(id, result),
 * never inside this call.
 */
export type RequestFn<T = DbdTarget> = (to: T, body: EnvelopeInit, timeoutMs: number) => RequestId;

/** `(term, votedFor)`, written before a vote is sent (§5.1). */
export interface PersistedVote {
  term: number;
  votedFor: number | undefined;
}

export interface VoteStore {
  load(): PersistedVote;
  /** Durable when it returns (write, fsync, rename). */
  save(v: PersistedVote): void;
}

/**
 * The core's timers: the election's (election, lock), the heartbeat (to every peer: the leader's
 * broadcast or a plain heartbeat; and a poll of the own dbd), the
 * leader's monitor pass (RecoverInterval, RerecoveryTimeout), and a recovery's wait for the
 * shared-access lease of nodes not frozen before the thaw (lease-wait).
 */
export type TimerId = 'election' | 'lock' | 'heartbeat' | 'monitor' | 'lease-wait';

export interface ClusterLock {
  /** Starts taking the lock; the shell answers with core.onLockHeld() or core.onLockLost(). */
  take(): void;
  /** Releases the lock (kills the helper); idempotent. */
  release(): void;
}

/** Counters and gauges the core reports; the shell maps them to Prometheus. */
export interface RecoverdMetrics {
  election(): void;
  recovery(durationMs: number, ok: boolean): void;
  ban(pnn: number): void;
  leadership(isLeader: boolean, term: number): void;
  nodeStates(views: ReadonlyMap<number, NodeState | undefined>): void;
}

export interface RecoverdIo extends CoreTimers<TimerId> {
  clock: CoreClock;
  random: CoreRandom;
  send(to: number, msg: PeerMessage): void;
  request: RequestFn;
  votes: VoteStore;
  lock: ClusterLock | undefined;
  metrics: RecoverdMetrics;
}

export const nullMetrics: RecoverdMetrics = {
  election: () => undefined,
  recovery: () => undefined,
  ban: () => undefined,
  leadership: () => undefined,
  nodeStates: () => undefined,
};
