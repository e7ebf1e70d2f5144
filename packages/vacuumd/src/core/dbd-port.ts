// What the vacuumd core needs of its own dbd (DESIGN §4, proto/ctdbng/v1/vacuum.proto): one async
// function per request on dbd's client socket. The shell implements it over ZeroMQ; unit tests
// implement it in memory. A request that dbd answers with an Error reply, or that times out,
// rejects with DbdRequestError carrying the code (ErrorCode of errors.proto).
import { ErrorCode, errorCodeName, v1, type ctdbng } from '@ctdbng/protocol';

export const VacuumRoute = v1.VacuumRoute;
export type VacuumRoute = ctdbng.v1.VacuumRoute;
export const VacuumResult = v1.VacuumResult;
export type VacuumResult = ctdbng.v1.VacuumResult;
export const VacuumPhase = v1.VacuumPhase;
export type VacuumPhase = ctdbng.v1.VacuumPhase;

export class DbdRequestError extends Error {
  override readonly name = 'DbdRequestError';
  constructor(readonly code: number, message: string, options?: ErrorOptions) {
    super(`${message} (${errorCodeName(code)})`, options);
  }
  get frozen(): boolean {
    return this.code === ErrorCode.ERR_FROZEN;
  }
}

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

export interface NodeStateView {
  frozen: boolean;
  generation: number;
}

export interface Dbd {
  getDbMap(): Promise<readonly DbRef[]>;
  getNodeState(): Promise<NodeStateView>;
  deletedSince(dbId: number, cursor: number, limit: number): Promise<FeedBatch>;
  ackDeleted(dbId: number, seq: number): Promise<void>;
  vacuumPlan(dbId: number, keys: readonly VacuumKey[]): Promise<PlanReply>;
  migrateToLmaster(dbId: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]>;
  vacuumRemote(dbId: number, phase: VacuumPhase, keys: readonly VacuumKey[]): Promise<readonly NodeResults[]>;
  purgeIfUnchanged(dbId: number, generation: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]>;
  reclaimSpace(dbId: number, pages: number): Promise<SpaceReply>;
  /** This node's records with headers, tombstones included (TraverseStart{local: true}), in batches. */
  traverseLocal(dbId: number): AsyncIterable<readonly LocalRecord[]>;
}

/** Time and waiting, injected: the core never reads the clock or sets a timer itself. */
export interface Clock {
  nowMs(): number;
  /** Resolves after ms (pacing between batches); the shell's setTimeout, a test's virtual time. */
  sleepMs(ms: number): Promise<void>;
}
