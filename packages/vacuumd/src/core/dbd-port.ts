// What the vacuumd core needs of the world (DESIGN §4, §12; the contract of packages/common
// core-io.ts): requests to its own dbd (proto/ctdbng/v1/vacuum.proto and the controls it reads),
// answered later as reply events, timers and a clock. The shell implements it with the DEALER to
// dbd and real timers; unit tests and test/sim with a fake or simulated dbd and virtual time.
import { ErrorCode, errorCodeName, v1, type ctdbng, type EnvelopeInit } from '@ctdbng/protocol';
import type { CoreClock, CoreTimers, RequestId } from '@ctdbng/common';

export const VacuumRoute = v1.VacuumRoute;
export type VacuumRoute = ctdbng.v1.VacuumRoute;
export const VacuumResult = v1.VacuumResult;
export type VacuumResult = ctdbng.v1.VacuumResult;
export const VacuumPhase = v1.VacuumPhase;
export type VacuumPhase = ctdbng.v1.VacuumPhase;

/** An envelope to dbd without the fields the transport fills in. */
export type RequestBody = Omit<EnvelopeInit, 'version' | 'requestId' | 'targetPnn' | 'node'>;

/**
 * The core's timers: `tick` the interval tick (VacuumInterval, or sooner at the earliest retry),
 * `pace` the pause after a batch (§4.7), `space` the pause between ReclaimSpace steps (§4.6).
 */
export type VacuumTimerId = 'tick' | 'pace' | 'space';

export interface VacuumIo extends CoreTimers<VacuumTimerId> {
  /**
   * Sends one request to this node's dbd; the answer comes back through the core's
   * onReply(id, result), never inside this call, and exactly once: the reply, or `{ ok: false }`
   * when none came within timeoutMs (a pass waits for it: a request never answered stalls it).
   * Ids are unique for the life of the core.
   */
  request(body: RequestBody, timeoutMs: number): RequestId;
  /**
   * Milliseconds on a clock that survives restarts: the state file keeps next tries and first
   * sightings across them (the shell gives wall-clock time; test/sim its virtual time).
   */
  clock: CoreClock;
}

/**
 * A request dbd answered with an Error reply, or did not answer (no reply: ERR_TIMEOUT). `frozen`
 * (ERR_FROZEN) pauses the pass until the thaw; anything else fails the step's items, with backoff.
 */
export class DbdRequestError extends Error {
  override readonly name = 'DbdRequestError';
  /** @param detail what went wrong, without the code (the message adds the code's name) */
  constructor(readonly code: number, readonly detail: string, options?: ErrorOptions) {
    super(`${detail} (${errorCodeName(code)})`, options);
  }
  get frozen(): boolean {
    return this.code === ErrorCode.ERR_FROZEN;
  }
}

/** A decoded answer of dbd: the reply body, or the error the request ended in. */
export type DbdReply<T> = { ok: true; value: T } | { ok: false; err: DbdRequestError };

/** A key with the rsn of the tombstone vacuumd saw (VacuumKey). */
export interface VacuumKey {
  key: Uint8Array;
  rsn: number;
}

export interface VolatileDb {
  dbId: number;
  name: string;
}

export interface DbRef extends VolatileDb {
  persistent: boolean;
}

export interface FeedBatch {
  entries: readonly { seq: number; key: Uint8Array; rsn: number }[];
  epoch: number;
  lastSeq: number;
}

export interface PlanReply {
  routes: readonly VacuumRoute[];
  rsns: readonly number[];
  generation: number;
  frozen: boolean;
}

export interface NodeResults {
  pnn: number;
  results: readonly VacuumResult[];
  /** Nonzero when the node refused the whole batch (ERR_FROZEN, ERR_WRONG_GENERATION, ...). */
  refusedCode: number;
}

export interface SpaceReply {
  freelistPages: number;
  pageCount: number;
}

export interface LocalRecord {
  key: Uint8Array;
  rsn: number;
  dmaster: number;
  dataBytes: number;
}

/** One batch of a local traverse (TraverseStart{local: true}, then TraverseNext). */
export interface TraverseBatch {
  traverseId: number;
  records: readonly LocalRecord[];
  done: boolean;
}

export interface NodeStateView {
  frozen: boolean;
  generation: number;
}

export interface TunableSetting {
  name: string;
  value: number;
}
