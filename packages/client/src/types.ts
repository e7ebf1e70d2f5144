// The public option and result shapes, and what a Db and a LockedRecord share with their client.
import type { Connection } from './connection.js';
import type { SharedAccess } from './shared-access.js';
import type { HeldLocks } from './held-locks.js';

export interface CallOptions {
  signal?: AbortSignal;
  /** Defaults to the client's timeoutMs (ConnectOptions). */
  timeoutMs?: number;
}

/** A control for another node's dbd, sent through the local one (envelope target_pnn). */
export interface NodeOptions extends CallOptions {
  pnn?: number;
}

export interface RecordHeader {
  rsn: number;
  dmaster: number;
  flags: number;
}

export interface DbInfo {
  id: number;
  name: string;
  persistent: boolean;
  /** This node's SQLite file of the db. */
  path: string;
}

export interface RecordEntry {
  key: Buffer;
  header: RecordHeader;
  data: Buffer;
}

/** What a LockedRecord needs from its client. */
export interface LockContext {
  readonly conn: Connection;
  /** The locks held: renewed until released; at client close, released locally where possible. */
  readonly locks: HeldLocks;
}

/** What a Db needs from its client. */
export interface ClientContext extends LockContext {
  /** Set when shared access is on and dbd runs on this host. */
  readonly shared: SharedAccess | undefined;
}
