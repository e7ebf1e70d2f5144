// Requests on the client socket (packages/dbd/README.md has the table): record operations are
// served here; controls run here or, with target_pnn, on another node through forward.ts.
import { bodyOf, ErrorCode, keyBytesMax, recordBytesMax, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { DbdCore } from './dbd-core.js';
import type { DbState } from './databases.js';
import { controls, isControl } from './controls.js';
import { keyStateOf } from './record-flow/key-state.js';
import { isRecoveryControl, recoveryControls } from './recovery-support/recovery-controls.js';
import { isVacuumControl, vacuumControls } from './vacuum-support/vacuum-controls.js';

type Reply = (body: EnvelopeInit) => void;

function err(code: ErrorCode, message: string): EnvelopeInit {
  return { error: { code, message } };
}

/** The db and key of a record request, or the error to answer with. */
function recordTarget(core: DbdCore, dbId: number | null | undefined, key: Uint8Array | null | undefined): { db: DbState; key: Buffer } | EnvelopeInit {
  const db = core.ctx.dbs.get(dbId ?? 0);
  if (db === undefined) return err(ErrorCode.ERR_UNKNOWN_DB, `no db with id 0x${(dbId ?? 0).toString(16)} is attached`);
  if (key === null || key === undefined || key.length === 0) return err(ErrorCode.ERR_INVALID_ARGUMENT, 'empty key');
  if (key.length > keyBytesMax) return err(ErrorCode.ERR_KEY_TOO_LARGE, `key of ${key.length} bytes exceeds ${keyBytesMax}`);
  return { db, key: Buffer.from(key.buffer, key.byteOffset, key.byteLength) };
}

export function handleClientRequest(core: DbdCore, clientId: string, env: Envelope): void {
  const requestId = env.requestId;
  const reply: Reply = (body) => core.io.sendToClient(clientId, { ...body, requestId });
  const body = env.body!;
  if (isControl(body)) {
    const target = env.targetPnn;
    if (target !== null && target !== undefined && target !== core.ctx.pnn) return core.forwarder.forward(target, env, reply);
    return controls[body]!(core, env, reply);
  }
  if (isRecoveryControl(body)) return recoveryControls[body]!(core, env, reply);
  if (isVacuumControl(body)) return vacuumControls[body]!(core, env, reply);
  switch (body) {
    case 'hello': {
      const h = bodyOf(env, 'hello');
      core.rememberClient(clientId, { pid: h.host === core.cfg.host ? h.pid : 0 });
      return reply({ helloReply: { pnn: core.ctx.pnn, incarnation: core.ctx.incarnation, clientId, host: core.cfg.host } });
    }
    case 'attach':
      return core.attach.cluster(bodyOf(env, 'attach').name, bodyOf(env, 'attach').persistent, reply);
    case 'fetchLock':
    case 'fetch':
      core.stats.inc('record_requests');
      return lockOrFetch(core, clientId, env, body, reply);
    case 'store':
      core.stats.inc('record_requests');
      return store(core, env, reply);
    case 'unlock':
      core.stats.inc('record_requests');
      return unlock(core, env, reply);
    case 'renewLock':
      core.stats.inc('record_requests');
      return renew(core, env, reply);
    case 'traverseStart': {
      const db = core.ctx.dbs.get(bodyOf(env, 'traverseStart').dbId);
      if (db === undefined) return reply(err(ErrorCode.ERR_UNKNOWN_DB, `no db with id 0x${bodyOf(env, 'traverseStart').dbId.toString(16)} is attached`));
      return core.traverses.start(clientId, requestId, db, bodyOf(env, 'traverseStart').local);
    }
    case 'traverseNext':
      return core.traverses.next(clientId, requestId, Number(bodyOf(env, 'traverseNext').traverseId));
    case 'traverseCancel':
      core.traverses.cancel(Number(bodyOf(env, 'traverseCancel').traverseId));
      return reply({ ok: {} });
    case 'registerSrvid':
      return reply(core.messaging.register(clientId, Number(bodyOf(env, 'registerSrvid').srvid)) ?? { ok: {} });
    case 'deregisterSrvid':
      core.messaging.deregister(clientId, Number(bodyOf(env, 'deregisterSrvid').srvid));
      return reply({ ok: {} });
    case 'sendMessage': {
      const m = bodyOf(env, 'sendMessage');
      if (m.data.length > recordBytesMax) return reply(err(ErrorCode.ERR_RECORD_TOO_LARGE, `message of ${m.data.length} bytes exceeds ${recordBytesMax}`));
      return reply(core.messaging.send(m.destPnn, Number(m.srvid), m.data) ?? { ok: {} });
    }
    default:
      core.stats.inc('bad_requests');
      return reply(err(ErrorCode.ERR_UNKNOWN_TYPE, `'${body}' is not a client request`));
  }
}

function lockOrFetch(core: DbdCore, clientId: string, env: Envelope, body: 'fetchLock' | 'fetch', reply: Reply): void {
  const req = body === 'fetchLock' ? bodyOf(env, 'fetchLock') : bodyOf(env, 'fetch');
  const t = recordTarget(core, req.dbId, req.key);
  if (!('db' in t)) return reply(t);
  const refused = core.ctx.status.refusal(core.io.clock.nowNs());
  if (refused !== undefined) return reply(refused);
  const ks = keyStateOf(t.db.keys, t.key);
  if (ks.waiters.length >= core.ctx.tunables.lockWaitersMaxCount) {
    return reply(err(ErrorCode.ERR_BUSY, `${ks.waiters.length} requests wait for this record`));
  }
  const idle = ks.waiters.length === 0 && ks.inflight === undefined;
  const calls = core.stats.get('calls_started');
  const pid = core.clients.get(clientId)?.pid ?? 0;
  ks.waiters.push({ kind: body === 'fetchLock' ? 'lock' : 'fetch', clientId, requestId: env.requestId, pid, sinceNs: core.io.clock.nowNs() });
  core.pumpKey(t.db, ks);
  // Served at once, with no call started: the local access of §2.1.2.
  if (idle && core.stats.get('calls_started') === calls && !ks.waiters.some((w) => w.kind !== 'call' && w.clientId === clientId && w.requestId === env.requestId)) {
    core.stats.inc('fetch_lock_local');
  }
}

function store(core: DbdCore, env: Envelope, reply: Reply): void {
  const s = bodyOf(env, 'store');
  const t = recordTarget(core, s.dbId, s.key);
  if (!('db' in t)) return reply(t);
  if (!s.delete && s.data.length > recordBytesMax) return reply(err(ErrorCode.ERR_RECORD_TOO_LARGE, `record of ${s.data.length} bytes exceeds ${recordBytesMax}`));
  const { db, key } = t;
  const token = Number(s.token);
  const attempt = (): void => {
    const gate = core.storeGate();
    if (gate === 'wait') return core.parkUntilLeased(attempt, reply);
    if (gate !== 'go') {
      // The holder's lock is void (a recovery froze the node): let it go so the drain ends.
      if ('lockVoid' in gate && db.file.unlock(key, token)) afterUnlock(core, db, key);
      return reply(gate.body);
    }
    const res = db.file.storeUnderLock(key, token, s.delete ? undefined : s.data, s.unlock);
    if (res === 'lock_lost') return reply(err(ErrorCode.ERR_LOCK_LOST, 'the lock token no longer holds the record lock'));
    reply({ ok: {} });
    if (s.delete) core.ctx.feedGrew(db.info.dbId);
    if (s.unlock) afterUnlock(core, db, key);
  };
  attempt();
}

function unlock(core: DbdCore, env: Envelope, reply: Reply): void {
  const u = bodyOf(env, 'unlock');
  const t = recordTarget(core, u.dbId, u.key);
  if (!('db' in t)) return reply(t);
  if (!t.db.file.unlock(t.key, Number(u.token))) return reply(err(ErrorCode.ERR_LOCK_LOST, 'the lock token does not hold the record lock'));
  reply({ ok: {} });
  afterUnlock(core, t.db, t.key);
}

function renew(core: DbdCore, env: Envelope, reply: Reply): void {
  const r = bodyOf(env, 'renewLock');
  const t = recordTarget(core, r.dbId, r.key);
  if (!('db' in t)) return reply(t);
  const until = core.io.clock.nowNs() + core.ctx.tunables.lockLeaseSeconds * 1e9;
  if (!t.db.file.tx(() => t.db.file.locks.renew(t.key, Number(r.token), until))) {
    return reply(err(ErrorCode.ERR_LOCK_LOST, 'the lock token does not hold the record lock'));
  }
  reply({ ok: {} });
}

/** A lock was released: the next waiter of the key (local or a deferred call) gets its turn. */
function afterUnlock(core: DbdCore, db: DbState, key: Buffer): void {
  const ks = db.keys.get(key.toString('latin1'));
  if (ks !== undefined) core.pumpKey(db, ks);
}
