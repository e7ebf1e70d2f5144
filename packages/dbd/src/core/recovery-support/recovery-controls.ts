// The controls recoverd drives (DESIGN §5, proto/ctdbng/v1/recovery.proto). Steps of a recovery
// carry the leader's term and are refused from a lower one (ERR_STALE_TERM). Generations are
// monotone (§5.3.1): a freeze must be above what this node installed and was frozen for; push,
// install and thaw are accepted only for the generation this incarnation is frozen for.
import { ErrorCode, bodyOf, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { generationText } from '@ctdbng/common';
import type { Ctx } from '../ctx.js';
import type { Freezer } from './freeze.js';
import { notFrozenFor, pullPage, type Pushes } from './pull-push.js';

type Reply = (body: EnvelopeInit) => void;

export interface RecoveryDeps {
  ctx: Ctx;
  freezer: Freezer;
  pushes: Pushes;
  /** Takes in the installed generation: vnnmap, participants, lease state. */
  installed(): void;
  /** No majority seen by recoverd (§5.1): out of service, copies kept. */
  setInactive(inactive: boolean): void;
}

type Handler = (d: RecoveryDeps, env: Envelope, reply: Reply) => void;

function withTerm(term: number, d: RecoveryDeps, reply: Reply, run: () => void): void {
  const refused = d.ctx.acceptTerm(term);
  if (refused !== undefined) return reply(refused);
  run();
}

function wrongGeneration(message: string): EnvelopeInit {
  return { error: { code: ErrorCode.ERR_WRONG_GENERATION, message } };
}

export const recoveryControls: Record<string, Handler> = {
  freeze: (d, env, reply) => {
    const m = bodyOf(env, 'freeze');
    if (m.generation === 0) return reply({ error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'freeze needs a nonzero generation' } });
    withTerm(m.term, d, reply, () => {
      const st = d.ctx.status;
      const floor = Math.max(st.installedGeneration, st.frozenFor);
      if (m.generation <= floor) {
        return reply(wrongGeneration(`generation ${generationText(m.generation)} is not above ${generationText(floor)} (installed or frozen for)`));
      }
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
      const { ctx } = d;
      const refused = notFrozenFor(ctx, m.generation);
      if (refused !== undefined) return reply(refused);
      if (m.generation <= ctx.status.installedGeneration) return reply(wrongGeneration(`generation ${generationText(m.generation)} is not above the installed one`));
      const self = m.participants.find((p) => p.pnn === ctx.pnn);
      if (self?.incarnation !== ctx.incarnation) return reply(wrongGeneration(`this dbd (incarnation ${ctx.incarnation}) is not a participant of ${generationText(m.generation)}`));
      const member = pnns.includes(ctx.pnn);
      let bumped = 0;
      for (const db of ctx.dbs.all()) if (!db.info.persistent) bumped += db.file.install(m.generation, { member, leader: member && m.leader === ctx.pnn });
      const st = ctx.status;
      st.installedGeneration = m.generation;
      st.amnesiac = false;
      st.participants = new Map(m.participants.map((p) => [p.pnn ?? 0, p.incarnation ?? 0]));
      ctx.vnn = { generation: m.generation, pnns };
      // Written and fsynced before the acknowledgement (§5.4).
      ctx.persistState();
      d.installed();
      ctx.log.info({ generation: generationText(m.generation), vnnmap: pnns, participants: [...st.participants.keys()], bumped }, 'generation installed');
      reply({ ok: {} });
    });
  },
  thaw: (d, env, reply) => {
    const m = bodyOf(env, 'thaw');
    withTerm(m.term, d, reply, () => {
      const { ctx } = d;
      const refused = notFrozenFor(ctx, m.generation);
      if (refused !== undefined) return reply(refused);
      if (ctx.vnn.generation !== m.generation || ctx.status.participants.size === 0) {
        return reply(wrongGeneration(`generation ${generationText(m.generation)} is not installed`));
      }
      const st = ctx.status;
      if (m.recoveryMs > 0) st.lastRecoveryMs = Number(m.recoveryMs);
      st.lastRecoveryEndNs = ctx.io.clock.nowNs();
      d.freezer.thaw();
      reply({ ok: {} });
    });
  },
  setActive: (d, env, reply) => {
    const m = bodyOf(env, 'setActive');
    d.setInactive(!m.active);
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
