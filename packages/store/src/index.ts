// @ctdbng/store: the SQLite record store (DESIGN §8) and the shared-access protocol (§2.2).
export { DbFile, type DbIdentity, type LockResult, type StoreResult } from './db-file.js';
export type { RecordHeader, StoredRecord } from './records.js';
export type { LockRow, LockRequest } from './locks.js';
export type { DeletedEntry } from './deleted-feed.js';
export type { Meta, MetaUpdate } from './meta.js';
export { SharedAccessDb, newLockToken, type Fallback, type SharedAccessEnv, type SharedLockResult, type SharedWriteResult, type SharedUpdateResult, type UpdateFn } from './shared-access.js';
export { StoreBusyError, retryBusy } from './busy.js';
export { RecordFlags } from './flags.js';
export { schemaSql, schemaVersion } from './schema.js';
