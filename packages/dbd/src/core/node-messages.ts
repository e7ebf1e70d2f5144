// Messages from other nodes' dbd (DESIGN §2.1, §7): every one carries a NodeHeader (sender,
// generation, incarnation, link sequence, nodes-file hash). Record messages of another
// generation are dropped (§2.1.9); record, vacuum, probe and traverse messages are taken only
// from a (PNN, incarnation) of the installed generation, so a restarted dbd is a stranger until
// a recovery takes it in (§1); a nodes-file mismatch is refused and logged. A message that
// cannot be served is never dropped silently: it asks for a recovery (§2.1.9).
import { bodyOf, ErrorCode, type Decoded, decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { DbdCore } from './dbd-core.js';
import { controls, isControl } from './controls.js';
import { keyStateOf } from './record-flow/key-state.js';
import { becomeDmaster, onDmasterRequest } from './record-flow/migrate.js';
import { readLivePage } from './traverse.js';
import type { DbState } from './databases.js';
import { onVacuumFetch } from './vacuum-support/migrate-to-lmaster.js';
import { onVacuumBatch } from './vacuum-support/remote.js';

const recordBodies = new Set(['callRequest', 'dmasterRequest', 'dmasterReply', 'vacuumFetch']);
/** Bodies taken only from a participant of the installed generation, in its incarnation. */
const participantBodies = new Set([...recordBodies, 'vacuumBatch', 'vacuumBatchReply', 'probe', 'probeAck', 'traversePage', 'traversePageReply']);

type Header = Decoded<NonNullable<EnvelopeInit['node']>>;

export function handleNodeMessage(core: DbdCore, env: Envelope): void {
  const { ctx } = core;
  const h = env.node as Header | null | undefined;
  const body = env.body!;
  const from = h?.srcPnn ?? -1;
  const fromNode = ctx.cfg.nodes.nodes[from];
  if (h === null || h === undefined || fromNode === undefined || fromNode.deleted || from === ctx.pnn) {
    core.stats.inc('bad_frames');
    ctx.log.warn({ body, from }, 'node message without a valid sender dropped');
    return;
  }
  if (h.nodesHash !== ctx.cfg.nodes.hash) {
    core.stats.inc('bad_frames');
    ctx.log.error({ from, theirs: h.nodesHash, ours: ctx.cfg.nodes.hash }, 'node message from a node with another nodes file refused');
    ctx.sendNode(from, { nodeError: { refId: 0, code: ErrorCode.ERR_NODES_MISMATCH, message: 'nodes files differ' } });
    return;
  }
  if (!core.links.heard(from, h.incarnation, h.generation, h.seq)) return;
  // A peer we hear from is reachable: after a cut-off heals the ZeroMQ connection may never
  // have dropped, so no handshake event would bring the link back up.
  if (!ctx.linksUp.has(from)) core.onLinkUp(from);
  if (recordBodies.has(body)) {
    const st = ctx.status;
    // §5.3.1: once frozen for a new generation, only messages stamped with it count, and they
    // wait for the thaw; anything of another generation is dropped (calls are re-sent by origin).
    if (st.recoveryFreeze !== 0) {
      if (h.generation === st.recoveryFreeze && core.freezer.defer(() => dispatch(core, h, env, body))) return;
    } else if (h.generation !== 0 && h.generation === ctx.vnn.generation) {
      return dispatch(core, h, env, body);
    }
    core.stats.inc('wrong_generation');
    ctx.log.debug({ body, from, generation: h.generation }, 'record message of another generation dropped');
    return;
  }
  dispatch(core, h, env, body);
}

/**
 * The db of a node message. A member without the db cannot serve it: that is a reason for a
 * recovery (which attaches every db everywhere, §5.2), never a silent drop.
 */
function dbOrRecover(core: DbdCore, dbId: number, from: number, body: string): DbState | undefined {
  const db = core.ctx.dbs.get(dbId);
  if (db === undefined) {
    core.stats.inc('bad_requests');
    core.ctx.log.warn({ dbId, from, body }, 'node message for a db not attached here');
    core.ctx.wantRecovery(`${body} from node ${from} for db 0x${dbId.toString(16)}, not attached here`);
  }
  return db;
}

function dispatch(core: DbdCore, h: Header, env: Envelope, body: string): void {
  const { ctx } = core;
  const from = h.srcPnn;
  const generation = h.generation;
  if (participantBodies.has(body) && !ctx.status.isParticipant(from, h.incarnation)) {
    core.stats.inc('wrong_generation');
    ctx.log.debug({ body, from, incarnation: h.incarnation }, 'message from a node outside the installed generation dropped');
    return;
  }
  switch (body) {
    case 'nodeHello':
      for (const db of bodyOf(env, 'nodeHello').dbs) if (ctx.dbs.get(db.dbId ?? 0) === undefined) core.attach.local(db.name ?? '', db.persistent ?? false);
      return;
    case 'callRequest': {
      const call = bodyOf(env, 'callRequest');
      const db = dbOrRecover(core, call.dbId, from, body);
      if (db === undefined) return;
      const ks = keyStateOf(db.keys, call.key);
      if (ks.waiters.length >= ctx.tunables.lockWaitersMaxCount) {
        // Its origin waits for this call: a recovery re-runs it (the origin re-sends after the thaw).
        ctx.log.warn({ db: db.info.name, origin: call.origin }, 'call not queued: too many waiters on the record');
        ctx.wantRecovery(`call from node ${call.origin} not queued: ${ks.waiters.length} waiters on one record`);
        return;
      }
      ks.waiters.push({ kind: 'call', call, sinceNs: ctx.io.clock.nowNs() });
      return core.pumpKey(db, ks);
    }
    case 'dmasterRequest': {
      const m = bodyOf(env, 'dmasterRequest');
      const db = dbOrRecover(core, m.dbId, from, body);
      if (db === undefined) return;
      if (onDmasterRequest(ctx, db, from, m) === 'dmaster') arrived(core, db, m.key);
      return;
    }
    case 'dmasterReply': {
      const m = bodyOf(env, 'dmasterReply');
      const db = dbOrRecover(core, m.dbId, from, body);
      if (db === undefined) return;
      const hdr = m.header;
      if (!becomeDmaster(ctx, db, Buffer.from(m.key), { rsn: Number(hdr?.rsn ?? 0), dmaster: hdr?.dmaster ?? 0, flags: hdr?.flags ?? 0 }, Buffer.from(m.data))) return;
      return arrived(core, db, m.key);
    }
    case 'vacuumFetch': {
      const m = bodyOf(env, 'vacuumFetch');
      const db = dbOrRecover(core, m.dbId, from, body);
      if (db === undefined) return;
      return onVacuumFetch(ctx, db, from, m, (key) => arrived(core, db, key));
    }
    case 'vacuumBatch':
      return onVacuumBatch(ctx, from, generation, bodyOf(env, 'vacuumBatch'));
    case 'vacuumBatchReply':
      return core.vacuumRemotes.onReply(from, bodyOf(env, 'vacuumBatchReply'));
    case 'probe': {
      const m = bodyOf(env, 'probe');
      return core.fence.onProbe(from, generation, h.incarnation, Number(m.probeId), m.acks.map(Number), m.urgent);
    }
    case 'keepalive':
      return;
    case 'probeAck':
      return core.fence.onProbeAck(from, generation, h.incarnation, bodyOf(env, 'probeAck').probeIds.map(Number));
    case 'controlForward':
      return runForwarded(core, from, Number(bodyOf(env, 'controlForward').forwardId), bodyOf(env, 'controlForward').envelope);
    case 'controlForwardReply':
      return core.forwarder.onReply({ forwardId: Number(bodyOf(env, 'controlForwardReply').forwardId), envelope: bodyOf(env, 'controlForwardReply').envelope });
    case 'messageForward': {
      const m = bodyOf(env, 'messageForward');
      return core.messaging.deliver(Number(m.srvid), m.data, m.srcPnn);
    }
    case 'traversePage': {
      const p = bodyOf(env, 'traversePage');
      const refused = traversePageRefusal(core, generation, p.dbId);
      if (refused !== 0) return void ctx.sendNode(from, { traversePageReply: { traverseId: p.traverseId, records: [], done: true, errorCode: refused } });
      const page = readLivePage(ctx, ctx.dbs.get(p.dbId)!, p.hasAfter ? Buffer.from(p.afterKey) : undefined);
      ctx.sendNode(from, { traversePageReply: { traverseId: p.traverseId, records: page.records, done: page.done, lastKey: page.lastKey ?? Buffer.alloc(0) } });
      return;
    }
    case 'traversePageReply':
      return core.traverses.onPage(from, bodyOf(env, 'traversePageReply'));
    case 'attachDb': {
      const a = bodyOf(env, 'attachDb');
      const res = core.attach.local(a.db?.name ?? '', a.db?.persistent ?? false);
      if ('error' in res) ctx.log.error({ from, db: a.db?.name }, 'attach asked by another node failed');
      ctx.sendNode(from, { attachDbReply: { attachId: a.attachId, dbId: a.db?.dbId ?? 0 } });
      return;
    }
    case 'attachDbReply':
      return core.attach.onReply(from, Number(bodyOf(env, 'attachDbReply').attachId));
    case 'nodeError':
      ctx.log.warn({ from, code: bodyOf(env, 'nodeError').code, message: bodyOf(env, 'nodeError').message }, 'node refused a message');
      return;
    default:
      core.stats.inc('bad_requests');
      ctx.log.warn({ from, body }, 'node message of a type nodes do not send dropped');
  }
}

/**
 * A traverse page is served only in the generation the traverse started in (the requester's
 * header) and while not frozen for a recovery: a traverse spanning a recovery fails with
 * ERR_WRONG_GENERATION rather than return a record twice or miss one (§2.3).
 */
function traversePageRefusal(core: DbdCore, generation: number, dbId: number): ErrorCode | 0 {
  const { ctx } = core;
  if (ctx.status.recoveryFreeze !== 0) return ErrorCode.ERR_WRONG_GENERATION;
  if (generation !== ctx.vnn.generation) return ErrorCode.ERR_WRONG_GENERATION;
  if (ctx.dbs.get(dbId) === undefined) return ErrorCode.ERR_UNKNOWN_DB;
  return 0;
}

/** The record arrived here: serve the key's waiters (local first, then deferred calls). */
function arrived(core: DbdCore, db: DbState, key: Uint8Array): void {
  const ks = keyStateOf(db.keys, key);
  if (ks.inflight !== undefined) {
    core.stats.migrationSeconds.observe((core.io.clock.nowNs() - ks.inflight.sentNs) / 1e9, { db: db.info.name });
    ks.inflight = undefined;
  }
  core.pumpKey(db, ks);
}

function runForwarded(core: DbdCore, from: number, forwardId: number, inner: Uint8Array): void {
  const send = (body: EnvelopeInit): void => {
    core.ctx.sendNode(from, { controlForwardReply: { forwardId, envelope: encodeEnvelope({ requestId: forwardId, ...body }) } });
  };
  const dec = decodeEnvelope(inner);
  if (!dec.ok) return send({ error: { code: dec.error.code, message: dec.error.message } });
  const body = dec.envelope.body!;
  if (!isControl(body)) return send({ error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `'${body}' cannot be sent to another node` } });
  controls[body]!(core, dec.envelope, send);
}
