// Every body of the Envelope oneof survives encode → decode (STYLE §3: a round trip per message).
// The list of bodies is read from proto/ctdbng/v1/envelope.proto, so a new message without a
// sample here fails the first test.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeEnvelope, encodeEnvelope, ErrorCode, packRecords, protocolVersion, v1, type EnvelopeInit } from '@ctdbng/protocol';

const envelopeProto = readFileSync(new URL('../../../proto/ctdbng/v1/envelope.proto', import.meta.url), 'utf8');

function oneofBodyFields(): string[] {
  const block = /oneof body \{([\s\S]*?)\}/.exec(envelopeProto);
  if (block === null) throw new Error('envelope.proto has no oneof body');
  return [...block[1]!.matchAll(/^\s*\w+\s+(\w+)\s*=\s*\d+;/gm)].map((m) =>
    m[1]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  );
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const header = { rsn: 2 ** 40 + 7, dmaster: 2, flags: 3 };
const record = { key: bytes('k1'), header, data: bytes('v1') };
/** Recovery pages carry records packed (packed-records.ts), two here. */
const packed = Buffer.from(packRecords([{ key: bytes('k1'), ...header, data: bytes('v1') }, { key: bytes('k2'), ...header, data: bytes('') }]));
const dbInfo = { dbId: 0xdeadbeef, name: 'locking.tdb', persistent: true, path: '/var/db/locking.0.sqlite' };
const vnnmap = { generation: 12, pnns: [0, 1, 2] };
const tunable = { name: 'KeepaliveInterval', value: 5, unit: 's', doc: 'Seconds between keepalives.', defaultValue: 5 };

/** One sample per oneof body, every field set to a non-default value (proto3 drops defaults). */
const samples: Record<string, object> = {
  // errors.proto
  error: { code: ErrorCode.ERR_LOCK_LOST, message: 'lock lost' },
  // client.proto
  ok: {},
  hello: { pid: 4242, name: 'smbd', host: 'node-a' },
  helloReply: { pnn: 1, incarnation: 9, clientId: 'c-17', host: 'node-a' },
  ping: {},
  pong: { pnn: 2, uptimeMs: 2 ** 45 },
  attach: { name: 'locking.tdb', persistent: true },
  attachReply: { db: dbInfo },
  getDbMap: {},
  dbMap: { dbs: [dbInfo, { ...dbInfo, dbId: 1, name: 'b' }] },
  fetchLock: { dbId: 7, key: bytes('key') },
  fetchLockReply: { header, data: bytes('data'), token: 2 ** 47 + 1, leaseMs: 10_000 },
  store: { dbId: 7, key: bytes('key'), token: 2 ** 47 + 1, data: bytes('d'), delete: true, unlock: true },
  unlock: { dbId: 7, key: bytes('key'), token: 99 },
  renewLock: { dbId: 7, key: bytes('key'), token: 99 },
  fetch: { dbId: 7, key: bytes('key') },
  fetchReply: { found: true, header, data: bytes('data') },
  traverseStart: { dbId: 7, local: true },
  traverseNext: { traverseId: 2 ** 50 },
  traverseCancel: { traverseId: 3 },
  traverseBatch: { traverseId: 3, records: [record, { ...record, key: bytes('k2') }], done: true },
  registerSrvid: { srvid: 2 ** 52 + 5 },
  deregisterSrvid: { srvid: 11 },
  sendMessage: { destPnn: 0xffffffff, srvid: 11, data: bytes('hi') },
  clientMessage: { srvid: 11, data: bytes('hi'), srcPnn: 1 },
  // controls.proto
  getPnn: {},
  pnnReply: { pnn: 3 },
  getNodeMap: {},
  nodeMap: { pnn: 2, nodes: [{ pnn: 1, address: '10.0.0.1', flags: ['OK'] }, { pnn: 2, address: '::1', flags: ['DELETED'] }] },
  getVnnMap: {},
  vnnMap: vnnmap,
  getTunable: { name: 'KeepaliveInterval' },
  setTunable: { name: 'KeepaliveInterval', value: 7 },
  listTunables: {},
  tunableValue: tunable,
  tunableList: { tunables: [tunable, { ...tunable, name: 'KeepaliveLimit', unit: 'count' }] },
  getStatistics: {},
  statistics: { pnn: 1, counters: [{ name: 'migrations', value: 12.5 }] },
  // node.proto
  nodeHello: { dbs: [dbInfo] },
  callRequest: { dbId: 7, key: bytes('key'), origin: 2, hopcount: 4, callId: 2 ** 49 },
  dmasterRequest: { dbId: 7, key: bytes('key'), header, data: bytes('d'), newDmaster: 2, callId: 5 },
  dmasterReply: { dbId: 7, key: bytes('key'), header, data: bytes('d'), callId: 5 },
  probe: { probeId: 2 ** 48, acks: [3, 2 ** 40], urgent: true },
  probeAck: { probeIds: [2 ** 48, 7] },
  controlForward: { forwardId: 1, envelope: bytes('inner') },
  controlForwardReply: { forwardId: 1, envelope: bytes('inner') },
  messageForward: { srvid: 11, data: bytes('m'), srcPnn: 2 },
  traversePage: { traverseId: 3, dbId: 7, afterKey: bytes('k1'), hasAfter: true, recordsMax: 1000 },
  traversePageReply: { traverseId: 3, records: [record], done: true, lastKey: bytes('k1') },
  attachDb: { attachId: 4, db: dbInfo },
  attachDbReply: { attachId: 4, dbId: 0xdeadbeef },
  nodeError: { refId: 4, code: ErrorCode.ERR_WRONG_GENERATION, message: 'stale generation' },
  keepalive: {},
  // recovery.proto
  freeze: { term: 2 ** 33, generation: 2 ** 32 * 3 + 7 },
  freezeReply: {
    pnn: 2, incarnation: 99, installedGeneration: 2 ** 32 + 1, amnesiac: true, dbs: [{ dbId: 7, generation: 2 ** 32 + 1, valid: true }],
    sharedAccessLeaseMs: 1000, leaseDriftMarginMs: 100, witness: true, stopped: true, banned: true, inactive: true,
  },
  pullDb: { term: 3, dbId: 7, afterKey: bytes('k0'), hasAfter: true, recordsMax: 10_000 },
  pullDbReply: { packedRecords: packed, recordCount: 2, done: true, lastKey: bytes('k2'), valid: true, generation: 76 },
  pushDbStart: { term: 3, pushId: 2 ** 40, dbId: 7, name: 'locking.tdb', persistent: true, generation: 2 ** 32 * 3 + 7, member: true },
  pushDbBatch: { term: 3, pushId: 9, packedRecords: packed, recordCount: 2 },
  pushDbCommit: { term: 3, pushId: 9, generation: 77 },
  installGeneration: { term: 3, generation: 2 ** 32 * 3 + 7, pnns: [0, 2], participants: [{ pnn: 1, incarnation: 5 }, { pnn: 2, incarnation: 6 }], leader: 2 },
  thaw: { term: 3, generation: 77, recoveryMs: 40 },
  setActive: { term: 4, active: true },
  setNodeFlags: { stop: true, cont: true, banSeconds: 300, unban: true },
  requestRecovery: { reason: 'link down' },
  getNodeState: {},
  nodeState: {
    pnn: 1, incarnation: 5, generation: 77, vnnmap: [0, 1], stopped: true, banned: true, banRemainingSeconds: 12,
    inactive: true, frozen: true, linksUp: [0, 2], recoveryRequests: 2 ** 36, dbIds: [7], dbNames: ['locking.tdb'],
    highestTerm: 8, leader: 2, hasLeader: true, lastRecoveryMs: 40, recoveryStartedUnixMs: 1_795_000_000_000,
  },
  setLeader: { term: 8, leader: 2, hasLeader: true, lastRecoveryMs: 40 },
  voteRequest: { term: 8, candidate: 2 },
  voteReply: { term: 8, granted: true, voter: 1 },
  leaderBroadcast: { term: 8, leader: 2 },
  recoverdHeartbeat: { pnn: 1, term: 8 },
  // vacuum.proto
  deletedSince: { dbId: 7, cursor: 2 ** 34, limit: 1000 },
  deletedBatch: { entries: [{ seq: 5, key: bytes('k1'), rsn: 3 }], epoch: 2, lastSeq: 9 },
  ackDeleted: { dbId: 7, seq: 9 },
  vacuumPlan: { dbId: 7, keys: [{ key: bytes('k1'), rsn: 3 }] },
  vacuumPlanReply: { routes: [v1.VacuumRoute.VACUUM_ROUTE_CLUSTER], rsns: [3], generation: 77, frozen: true, vnnmap: [0, 1, 2] },
  migrateToLmaster: { dbId: 7, keys: [{ key: bytes('k1'), rsn: 3 }] },
  migrateToLmasterReply: { migrated: [true, false] },
  vacuumRemote: { dbId: 7, phase: v1.VacuumPhase.VACUUM_PHASE_TRY_DELETE, keys: [{ key: bytes('k1'), rsn: 3 }] },
  vacuumRemoteReply: { nodes: [{ pnn: 1, results: [v1.VacuumResult.VACUUM_RESULT_DELETED], refusedCode: ErrorCode.ERR_FROZEN }] },
  purgeIfUnchanged: { dbId: 7, generation: 77, keys: [{ key: bytes('k1'), rsn: 3 }] },
  purgeIfUnchangedReply: { purged: [true] },
  reclaimSpace: { dbId: 7, pages: 256 },
  reclaimSpaceReply: { freelistPages: 10, pageCount: 300 },
  vacuumNow: { dbName: 'locking.tdb' },
  vacuumNowReply: { dbs: [{ db: 'locking.tdb', purged: 5, pending: 1, failed: 1 }] },
  vacuumFetch: { dbId: 7, records: [record] },
  vacuumBatch: { batchId: 3, dbId: 7, phase: v1.VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE, keys: [{ key: bytes('k1'), rsn: 3 }] },
  vacuumBatchReply: { batchId: 3, results: [v1.VacuumResult.VACUUM_RESULT_STORED], refusedCode: ErrorCode.ERR_WRONG_GENERATION },
};

describe('Envelope round trip', () => {
  test('every body of the Envelope oneof has a sample here', () => {
    expect(Object.keys(samples).sort()).toEqual(oneofBodyFields().sort());
  });

  test.each(oneofBodyFields())('a %s envelope decodes to what was encoded', (field) => {
    const init = { requestId: 2 ** 33 + 1, [field]: samples[field] } as EnvelopeInit;
    const result = decodeEnvelope(encodeEnvelope(init));
    if (!result.ok) throw result.error;
    expect(result.envelope.body).toBe(field);
    expect(result.envelope.version).toBe(protocolVersion);
    expect(result.envelope.requestId).toBe(2 ** 33 + 1);
    expect((result.envelope as unknown as Record<string, unknown>)[field]).toEqual(samples[field]);
  });

  test.each(oneofBodyFields())('a %s envelope encodes to the bytes of the generated encoder', (field) => {
    const node = { srcPnn: 1, generation: 5, incarnation: 3, seq: 2 ** 44, nodesHash: 0x811c9dc5 };
    for (const init of [
      { [field]: samples[field] },
      { requestId: 2 ** 33 + 1, targetPnn: 0, node, [field]: samples[field] },
      { version: protocolVersion, requestId: 7, [field]: samples[field] },
    ] as EnvelopeInit[]) {
      const generated = v1.Envelope.encode({ ...init, version: init.version ?? protocolVersion }).finish();
      expect(Buffer.from(encodeEnvelope(init)).toString('hex')).toBe(Buffer.from(generated).toString('hex'));
      // A decoded Envelope (an instance of the generated class) encodes the same again.
      expect(Buffer.from(encodeEnvelope(v1.Envelope.decode(generated))).toString('hex')).toBe(Buffer.from(generated).toString('hex'));
    }
  });

  test('the node header and target_pnn survive a round trip beside the body', () => {
    const node = { srcPnn: 1, generation: 5, incarnation: 3, seq: 2 ** 44, nodesHash: 0x811c9dc5 };
    const result = decodeEnvelope(encodeEnvelope({ requestId: 1, targetPnn: 0, node, probe: { probeId: 8 } }));
    if (!result.ok) throw result.error;
    expect(result.envelope.node).toEqual(node);
    expect(result.envelope.targetPnn).toBe(0);
  });

  test('64-bit fields decode as JavaScript numbers, exact up to 2^53 - 1', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const result = decodeEnvelope(encodeEnvelope({ requestId: big, fetchLockReply: { header: { rsn: big, dmaster: 0, flags: 0 }, token: big } }));
    if (!result.ok) throw result.error;
    const reply = result.envelope.fetchLockReply!;
    expect(typeof result.envelope.requestId).toBe('number');
    expect(result.envelope.requestId).toBe(big);
    expect(typeof reply.token).toBe('number');
    expect(reply.token).toBe(big);
    expect(reply.header!.rsn).toBe(big);
  });

  test('an unset 64-bit field decodes as the number 0', () => {
    const decoded = v1.Envelope.decode(encodeEnvelope({ ok: {} }));
    expect(decoded.requestId).toBe(0);
    expect(typeof decoded.requestId).toBe('number');
  });
});
