// The slice of @ctdbng/client the CLI uses, typed structurally so the command modules can be
// driven by a small fake in unit tests (STYLE §3: the CLI against a fake dbd). The real Client
// and Db are assignable to these; where the client exports the type, the slice is derived from it.
import type { DbInfo, NodeFlagsChange as ClientNodeFlagsChange, NodeState, TunableInfo as ClientTunableInfo } from '@ctdbng/client';

export interface NodeOpts {
  signal?: AbortSignal;
  timeoutMs?: number;
  pnn?: number;
}

export interface RecordHeader {
  rsn: number | bigint;
  dmaster: number;
  flags: number;
}

export interface TraversedRecord {
  key: Buffer;
  header: RecordHeader;
  data: Buffer;
}

export interface HeldRecord {
  store(data: Buffer, o?: { unlock?: boolean }): Promise<unknown>;
  delete(o?: { unlock?: boolean }): Promise<unknown>;
  unlock(): Promise<unknown>;
}

export interface CliDb {
  readonly id: number;
  readonly name: string;
  readonly persistent: boolean;
  fetch(key: Buffer): Promise<{ found: boolean; header?: RecordHeader; data: Buffer }>;
  fetchLock(key: Buffer): Promise<HeldRecord>;
  /** Read, compute and store in one step (the client's db.update); resolves with what was stored. */
  update(key: Buffer, fn: (current: Buffer) => Buffer | string): Promise<Buffer>;
  traverse(o?: { local?: boolean }): AsyncIterable<TraversedRecord>;
}

export interface NodeMapEntry {
  pnn: number;
  address: string;
  flags: string[];
}

export type DbMapEntry = DbInfo;

export type TunableInfo = ClientTunableInfo;

/** What the CLI reads of a node's GetNodeState (the client's NodeState has more). */
export type NodeStateView = Pick<NodeState, 'pnn' | 'generation' | 'vnnmap' | 'stopped' | 'banned' | 'banRemainingSeconds' | 'inactive' | 'frozen' | 'leader' | 'lastRecoveryMs' | 'recoveryStartedUnixMs' | 'witness' | 'quorum'>;

export type NodeFlagsChange = ClientNodeFlagsChange;

export interface CliClient {
  readonly pnn: number;
  close(): Promise<unknown> | void;
  ping(o?: NodeOpts): Promise<{ pnn: number; uptimeMs: number; rttMs: number }>;
  attach(name: string, o?: { persistent?: boolean }): Promise<CliDb>;
  getDbMap(o?: NodeOpts): Promise<DbMapEntry[]>;
  getPnn(o?: NodeOpts): Promise<number>;
  getNodeMap(o?: NodeOpts): Promise<{ pnn: number; nodes: NodeMapEntry[] }>;
  getVnnMap(o?: NodeOpts): Promise<{ generation: number; pnns: number[] }>;
  getTunable(name: string, o?: NodeOpts): Promise<number>;
  setTunable(name: string, value: number, o?: NodeOpts): Promise<unknown>;
  listTunables(o?: NodeOpts): Promise<TunableInfo[]>;
  statistics(o?: NodeOpts): Promise<{ pnn: number; counters: Record<string, number> }>;
  getNodeState(o?: NodeOpts): Promise<NodeStateView>;
  setNodeFlags(change: NodeFlagsChange, o?: NodeOpts): Promise<unknown>;
  requestRecovery(reason: string, o?: NodeOpts): Promise<unknown>;
}
