// One contract for the three daemons' cores (DESIGN §12, STYLE §2 "One contract for the three
// cores"). A core is a state machine: events come in — a message, the reply to a request it
// made, a timer — and each handler runs to completion without awaiting anything. What the core
// wants done it asks of these interfaces: send, request (the answer comes back later as a reply
// event), set or cancel a timer. The shell implements them with ZeroMQ and real timers; test/sim
// with a seeded network, a virtual clock and a seeded Random. A core never reads Date.now(),
// process.hrtime, Math.random or setTimeout itself.
import type { Envelope } from '@ctdbng/protocol';

/** Monotonic time. The host's CLOCK_MONOTONIC in the shell; virtual in a simulation. */
export interface CoreClock {
  nowMs(): number;
  nowNs(): number;
}

/** Timer requests: onTimer(id) after delayMs; setting an id again replaces it; cancel is idempotent. */
export interface CoreTimers<Id extends string = string> {
  setTimer(id: Id, delayMs: number): void;
  cancelTimer(id: Id): void;
}

/** Randomness, seeded in a simulation. */
export interface CoreRandom {
  /** Uniform in [0, 1). */
  next(): number;
}

/** Identifies a request a core made; its answer comes back with the same id. */
export type RequestId = number;

/**
 * The answer to a request: the reply envelope (an Error reply included), or no reply at all —
 * the request could not be sent, or nothing came within its timeout.
 */
export type ReplyResult = { ok: true; env: Envelope } | { ok: false; reason: string };

/** Request ids of a core: unique for the life of the core. */
export class RequestIds {
  private next = 1;
  take(): RequestId {
    return this.next++;
  }
}

/**
 * A shell's bridge from a promise-returning transport to the contract: sends now, and hands the
 * settled answer to `deliver` (the core's onReply) on a later turn, never inside the request.
 */
export function requestViaPromise(ids: RequestIds, send: () => Promise<Envelope>, deliver: (id: RequestId, r: ReplyResult) => void): RequestId {
  const id = ids.take();
  send().then(
    (env) => deliver(id, { ok: true, env }),
    (err: unknown) => deliver(id, { ok: false, reason: err instanceof Error ? err.message : String(err) }),
  );
  return id;
}

/** The host's clock, for shells. */
export const hostClock: CoreClock = {
  nowMs: () => Number(process.hrtime.bigint() / 1_000_000n),
  nowNs: () => Number(process.hrtime.bigint()),
};

/** Math.random, for shells. */
export const hostRandom: CoreRandom = { next: () => Math.random() };
