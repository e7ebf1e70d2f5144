// What the recoverd core needs from the outside (DESIGN §12): messages to other recoverds,
// controls to dbds, timers, a clock, randomness, the vote store and the cluster lock. The shell
// implements these with ZeroMQ, real timers and files; tests with in-memory fakes.
import type { BodyOf, Envelope, EnvelopeInit } from '@ctdbng/protocol';

/** recoverd ↔ recoverd messages (fire-and-forget; the sender's pnn is inside each). */
export type PeerMessage =
  | { voteRequest: BodyOf<'voteRequest'> }
  | { voteReply: BodyOf<'voteReply'> }
  | { leaderBroadcast: BodyOf<'leaderBroadcast'> }
  | { recoverdHeartbeat: BodyOf<'recoverdHeartbeat'> };

export type NodeState = BodyOf<'nodeState'>;
export type PulledRecord = NonNullable<BodyOf<'pullDbReply'>['records'][number]>;

/**
 * Controls to a dbd. `request` resolves with the reply envelope (an Error reply included) and
 * rejects only when no reply came within timeoutMs or the control could not be sent.
 */
export interface DbdRpc {
  request(pnn: number, body: EnvelopeInit, timeoutMs: number): Promise<Envelope>;
}

/** The local dbd over its client socket (GetNodeState, SetActive, SetLeader). */
export interface OwnDbd {
  request(body: EnvelopeInit, timeoutMs: number): Promise<Envelope>;
}

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

export type TimerId = 'election' | 'broadcast' | 'lock' | 'heartbeat' | 'monitor';

export interface Timers {
  setTimer(id: TimerId, delayMs: number): void;
  cancelTimer(id: TimerId): void;
}

export interface Clock {
  /** Monotonic milliseconds. */
  nowMs(): number;
}

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

export interface RecoverdIo extends Timers, Clock {
  send(to: number, msg: PeerMessage): void;
  rpc: DbdRpc;
  own: OwnDbd;
  votes: VoteStore;
  lock: ClusterLock | undefined;
  metrics: RecoverdMetrics;
  /** Uniform in [0, 1). */
  random(): number;
  /** Resolves after ms (the one wait inside a recovery: SharedAccessLease before a thaw). */
  delay(ms: number): Promise<void>;
  /** A broken invariant (InvariantError) inside an async step: the shell logs it and exits. */
  fatal(err: unknown): void;
}

export const nullMetrics: RecoverdMetrics = {
  election: () => undefined,
  recovery: () => undefined,
  ban: () => undefined,
  leadership: () => undefined,
  nodeStates: () => undefined,
};
