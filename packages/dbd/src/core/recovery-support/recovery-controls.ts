// The controls recoverd drives (DESIGN §5, proto/ctdbng/v1/recovery.proto). Steps of a recovery
// carry the leader's term and are refused from a lower one (ERR_STALE_TERM).
import { ErrorCode, bodyOf, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';
import type { Freezer } from './freeze.js';
import { pullPage, type Pushes } from './pull-push.js';
import type { LeaseFence } from '../locks/lease-fence.js';

type Reply = (body: EnvelopeInit) => void;

export interface RecoveryDeps {
  ctx: Ctx;
  freezer: Freezer;
  pushes: Pushes;
  fence: LeaseFence;
  /** Installs the vnnmap and generation (also used by the static SetVnnMap control). */
  setVnnMap(generation: number, pnns: number[]): void;
}

type Handler = (d: RecoveryDeps, env: Envelope, reply: Reply) => void;

function withTerm(term: number, d: RecoveryDeps, reply: Reply, run: () => void): void {
  const refused = d.ctx.status.acceptTerm(term);
  if (refused !== undefined) return reply(refused);
  run();
}

export const recoveryControls: Record<string, Handler> = {
  freeze: (d, env, reply) => {
    const m = bodyOf(env, 'freeze');
    if (m.generation === 0) return reply({ error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'freeze needs a nonzero generation' } });
    withTerm(m.term, d, reply, () => {
      d.pushes.abortAll();
      d.freezer.freeze(m.generation, reply);
    });
  },
  pullDb: (d, env, reply) => {
    const m = bodyOf(env, 'pullDb');
    withTerm(m.term, d, reply, () => pullPage(d.ctx, m, reply));
  },
  pushDbStart: (d, env, reply) => {
    const m = bodyOf(env, 'pushDbStart');
    withTerm(m.term, d, reply, () => d.pushes.start(m, reply));
  },
  pushDbBatch: (d, env, reply) => {
    const m = bodyOf(env, 'pushDbBatch');
    withTerm(m.term, d, reply, () => d.pushes.batch(m, reply));
  },
  pushDbCommit: (d, env, reply) => {
    const m = bodyOf(env, 'pushDbCommit');
    withTerm(m.term, d, reply, () => d.pushes.commit(m, reply));
  },
  installGeneration: (d, env, reply) => {
    const m = bodyOf(env, 'installGeneration');
    const pnns = [...m.pnns];
    if (m.generation === 0 || pnns.length === 0) return reply({ error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'a generation needs a nonzero id and members' } });
    withTerm(m.term, d, reply, () => {
      if (!d.ctx.status.frozen || d.ctx.status.freezeGeneration !== m.generation) {
        return reply({ error: { code: ErrorCode.ERR_WRONG_GENERATION, message: `not frozen for generation ${m.generation}` } });
      }
      d.setVnnMap(m.generation, pnns);
      for (const db of d.ctx.dbs.all()) if (!db.info.persistent) db.file.setMeta({ generation: m.generation, valid: 1 });
      reply({ ok: {} });
    });
  },
  thaw: (d, env, reply) => {
    const m = bodyOf(env, 'thaw');
    withTerm(m.term, d, reply, () => {
      if (d.ctx.vnn.generation !== m.generation) {
        return reply({ error: { code: ErrorCode.ERR_WRONG_GENERATION, message: `generation ${m.generation} is not installed` } });
      }
      const st = d.ctx.status;
      if (st.stopped || st.inactive || st.banned(d.ctx.io.nowNs())) {
        return reply({ error: { code: ErrorCode.ERR_INACTIVE, message: 'a stopped, banned or inactive node is not thawed' } });
      }
      if (m.recoveryMs > 0) st.lastRecoveryMs = Number(m.recoveryMs);
      st.lastRecoveryEndNs = d.ctx.io.nowNs();
      d.freezer.thaw();
      reply({ ok: {} });
    });
  },
  setActive: (d, env, reply) => {
    const m = bodyOf(env, 'setActive');
    const { ctx } = d;
    if (!m.active && !ctx.status.inactive) {
      // §5.1/§5.4: a node without a majority freezes and its volatile copies stop counting.
      ctx.status.inactive = true;
      d.pushes.abortAll();
      d.freezer.freezeNow(0);
      for (const db of ctx.dbs.all()) if (!db.info.persistent) db.file.setMeta({ valid: 0 });
      ctx.log.warn('inactive: no majority visible; frozen, volatile copies invalid');
    } else if (m.active && ctx.status.inactive) {
      ctx.status.inactive = false;
      ctx.log.info('majority visible again; waiting for a recovery to thaw');
      ctx.wantRecovery('node active again');
    }
    reply({ ok: {} });
  },
  setLeader: (d, env, reply) => {
    const m = bodyOf(env, 'setLeader');
    d.ctx.status.leader = m.hasLeader ? m.leader : undefined;
    if (m.lastRecoveryMs > 0) d.ctx.status.lastRecoveryMs = m.lastRecoveryMs;
    reply({ ok: {} });
  },
};

export function isRecoveryControl(body: string): boolean {
  return Object.prototype.hasOwnProperty.call(recoveryControls, body);
}
