// @ctdbng/client: the TypeScript client of ctdb-ng (README.md). Errors are re-exported here so
// users import one package.
export { connect, Client, timeoutMsDefault, type ConnectOptions, type ClientMessageEvent, type TunableInfo, type NodeMapInfo } from './client.js';
export type { TransportKind } from './transport.js';
export { Db } from './db.js';
export type { NodeState, NodeFlagsChange } from './node-state.js';
export { LockedRecord } from './locked-record.js';
export type { CallOptions, NodeOptions, RecordHeader, DbInfo, RecordEntry } from './types.js';
export type { Bytes } from './bytes.js';
export { sendQueueMax } from './connection.js';
export * from './errors.js';
