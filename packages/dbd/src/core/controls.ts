// Controls (DESIGN §9, §10): name → handler. Each may be addressed to another node through the
// local one (envelope target_pnn); forward.ts carries them there and back.
import { bodyOf, ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { TunableError, TUNABLES, setTunable, tunableRow } from '@ctdbng/common';
import type { Ctx } from './ctx.js';

export type Reply = (body: EnvelopeInit) => void;

export interface ControlDeps {
  ctx: Ctx;
  /** Stop or ban: out of service at once, copies invalid, a recovery wanted (§5.4). */
  leaveService(why: 'stopped' | 'banned'): void;
}

export const unbanTimerId = 'unban';

type Handler = (d: ControlDeps, env: Envelope, reply: Reply) => void;

function bad(reply: Reply, code: ErrorCode, message: string): void {
  reply({ error: { code, message } });
}

function ownFlags(ctx: Ctx): string[] {
  const st = ctx.status;
  const flags: string[] = [];
  if (st.banned(ctx.io.clock.nowNs())) flags.push('BANNED');
  if (st.stopped) flags.push('STOPPED');
  if (st.inactive || flags.length > 0) flags.push('INACTIVE');
  if (ctx.witness) flags.push('WITNESS');
  return flags.length > 0 ? flags : ['OK'];
}

function nodeFlags(ctx: Ctx, pnn: number, deleted: boolean): string[] {
  if (deleted) return ['DELETED'];
  if (pnn === ctx.pnn) return ownFlags(ctx);
  if (!ctx.linksUp.has(pnn)) return ['DISCONNECTED'];
  if (ctx.cfg.nodes.nodes[pnn]?.witness === true) return ['WITNESS'];
  return ctx.vnn.pnns.length === 0 || ctx.isMember(pnn) ? ['OK'] : ['INACTIVE'];
}

export const controls: Record<string, Handler> = {
  ping: ({ ctx }, _env, reply) => reply({ pong: { pnn: ctx.pnn, uptimeMs: Math.floor((ctx.io.clock.nowNs() - ctx.startNs) / 1e6) } }),
  getPnn: ({ ctx }, _env, reply) => reply({ pnnReply: { pnn: ctx.pnn } }),
  getNodeMap: ({ ctx }, _env, reply) =>
    reply({
      nodeMap: {
        pnn: ctx.pnn,
        nodes: ctx.cfg.nodes.nodes.map((n) => ({ pnn: n.pnn, address: n.address, flags: nodeFlags(ctx, n.pnn, n.deleted) })),
      },
    }),
  getVnnMap: ({ ctx }, _env, reply) => reply({ vnnMap: { generation: ctx.vnn.generation, pnns: ctx.vnn.pnns } }),
  getDbMap: ({ ctx }, _env, reply) =>
    reply({ dbMap: { dbs: ctx.dbs.all().map((db) => ({ dbId: db.info.dbId, name: db.info.name, persistent: db.info.persistent, path: db.info.path })) } }),
  getTunable: ({ ctx }, env, reply) => {
    const row = tunableRow(bodyOf(env, 'getTunable').name ?? '');
    if (row === undefined) return bad(reply, ErrorCode.ERR_UNKNOWN_TUNABLE, `unknown tunable '${bodyOf(env, 'getTunable').name ?? ''}'`);
    reply({ tunableValue: { name: row.name, value: ctx.tunables[row.key as keyof typeof ctx.tunables], unit: row.unit, doc: row.doc, defaultValue: row.default } });
  },
  setTunable: ({ ctx }, env, reply) => {
    const name = bodyOf(env, 'setTunable').name ?? '';
    if (tunableRow(name) === undefined) return bad(reply, ErrorCode.ERR_UNKNOWN_TUNABLE, `unknown tunable '${name}'`);
    try {
      const row = setTunable(ctx.tunables, name, bodyOf(env, 'setTunable').value ?? NaN);
      if (row.key === 'lockLeaseSeconds') for (const db of ctx.dbs.all()) db.file.setMeta({ lock_lease_ms: ctx.tunables.lockLeaseSeconds * 1000 });
      ctx.log.info({ tunable: row.name, value: bodyOf(env, 'setTunable').value }, 'tunable set');
    } catch (err) {
      if (err instanceof TunableError) return bad(reply, ErrorCode.ERR_INVALID_ARGUMENT, err.message);
      throw err;
    }
    reply({ ok: {} });
  },
  listTunables: ({ ctx }, _env, reply) =>
    reply({
      tunableList: {
        tunables: TUNABLES.filter((t) => !('obsolete' in t)).map((t) => ({ name: t.name, value: ctx.tunables[t.key], unit: t.unit, doc: t.doc, defaultValue: t.default })),
      },
    }),
  getStatistics: ({ ctx }, _env, reply) => reply({ statistics: { pnn: ctx.pnn, counters: ctx.stats.snapshot() } }),
  getNodeState: ({ ctx }, _env, reply) => {
    const st = ctx.status;
    const now = ctx.io.clock.nowNs();
    const dbs = ctx.dbs.all();
    reply({
      nodeState: {
        pnn: ctx.pnn, incarnation: ctx.incarnation, generation: ctx.vnn.generation, vnnmap: ctx.vnn.pnns,
        stopped: st.stopped, banned: st.banned(now), banRemainingSeconds: Math.max(0, Math.ceil((st.bannedUntilNs - now) / 1e9)),
        inactive: st.inactive, frozen: ctx.frozen(), linksUp: [...ctx.linksUp].sort((a, b) => a - b),
        recoveryRequests: st.recoveryRequests, dbIds: dbs.map((db) => db.info.dbId), dbNames: dbs.map((db) => db.info.name),
        highestTerm: st.highestTerm, leader: st.leader ?? 0, hasLeader: st.leader !== undefined, lastRecoveryMs: st.lastRecoveryMs,
        recoveryStartedUnixMs: st.lastRecoveryEndNs === 0 ? 0 : Math.round(ctx.io.wallMs() - (now - st.lastRecoveryEndNs) / 1e6 - st.lastRecoveryMs),
        witness: ctx.witness, amnesiac: st.amnesiac, quorum: ctx.hasQuorum(), frozenFor: st.recoveryFreeze, joined: st.joined,
      },
    });
  },
  requestRecovery: ({ ctx }, env, reply) => {
    ctx.wantRecovery(bodyOf(env, 'requestRecovery').reason || 'asked by a client');
    reply({ ok: {} });
  },
  setNodeFlags: (d, env, reply) => {
    const m = bodyOf(env, 'setNodeFlags');
    const { ctx } = d;
    const st = ctx.status;
    // A leader's flag change carries its term (a deposed leader's is refused); term 0 is the
    // administrator's. Either way a change only takes the node out of service or asks for a
    // recovery: a node joins a generation only through one. Continuing a node that is not
    // stopped, or unbanning one that is not banned, changes nothing (as `ctdb continue` on a
    // running node): no recovery for it.
    if (m.term > 0) {
      const refused = ctx.acceptTerm(m.term);
      if (refused !== undefined) return reply(refused);
    }
    if (m.stop) {
      st.stopped = true;
      d.leaveService('stopped');
    } else if (m.cont) {
      if (!st.stopped) return reply({ ok: {} });
      st.stopped = false;
      ctx.wantRecovery('node continued');
    } else if (m.banSeconds > 0) {
      st.bannedUntilNs = ctx.io.clock.nowNs() + m.banSeconds * 1e9;
      ctx.io.setTimer(unbanTimerId, m.banSeconds * 1000);
      ctx.log.warn({ seconds: m.banSeconds }, 'node banned');
      d.leaveService('banned');
    } else if (m.unban) {
      if (st.bannedUntilNs === 0) return reply({ ok: {} });
      st.bannedUntilNs = 0;
      ctx.io.cancelTimer(unbanTimerId);
      ctx.wantRecovery('node unbanned');
    } else {
      return bad(reply, ErrorCode.ERR_INVALID_ARGUMENT, 'set one of stop, cont, ban_seconds, unban');
    }
    reply({ ok: {} });
  },
};

export function isControl(body: string): boolean {
  return Object.prototype.hasOwnProperty.call(controls, body);
}
