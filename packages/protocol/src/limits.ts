// Protocol limits (DESIGN §7). Every bound has a name ending in Max and a test at max and max + 1.

/** Envelope.version spoken by this implementation. */
export const protocolVersion = 1;

/** Largest ZeroMQ frame accepted (MaxMessageSize default; enforced by ZMQ_MAXMSGSIZE and on decode). */
export const frameBytesMax = 64 * 1024 * 1024;
/** Largest record key. */
export const keyBytesMax = 64 * 1024;
/** Largest record data. */
export const recordBytesMax = 16 * 1024 * 1024;
/** Records per traverse batch (§2.3). */
export const traverseBatchRecordsMax = 1000;
/** Bytes of record data per traverse batch (§2.3). */
export const traverseBatchBytesMax = 1024 * 1024;
/** Integers carried in uint64 fields stay exact in a JavaScript number below this. */
export const uint64SafeMax = Number.MAX_SAFE_INTEGER;
/** dest_pnn meaning "every node" (CTDB's CTDB_BROADCAST_ALL). */
export const pnnAll = 0xffffffff;

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`protocol limits: ${what}`);
}
check(keyBytesMax + recordBytesMax + 4096 < frameBytesMax, 'one record must fit in one frame');
check(traverseBatchBytesMax < frameBytesMax, 'a traverse batch must fit in one frame');
check(traverseBatchRecordsMax > 0, 'traverse batches must hold records');
