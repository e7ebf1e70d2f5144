// Cluster-wide attach (DESIGN §1): the node a client asks attaches locally, then asks every
// connected member to attach and answers when all did (or ControlTimeout passed: an error).
// Nodes that are down attach when their link comes up (NodeHello carries the db map).
import { ErrorCode, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from './ctx.js';
import type { DbState } from './databases.js';

interface PendingAttach {
  db: DbState;
  waitingFor: Set<number>;
  reply: (body: EnvelopeInit) => void;
}

export class ClusterAttach {
  private readonly pending = new Map<number, PendingAttach>();
  private nextId = 1;

  constructor(private readonly ctx: Ctx, private readonly onAttached: (db: DbState) => void) {}

  /** Attaches locally; returns the db or an error body. */
  local(name: string, persistent: boolean): { db: DbState } | { error: EnvelopeInit } {
    if (persistent) {
      return { error: { error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'persistent databases are not available in this release' } } };
    }
    const res = this.ctx.dbs.attach(name, persistent);
    if (!res.ok) {
      const code = res.why === 'conflict' ? ErrorCode.ERR_DB_CONFLICT : ErrorCode.ERR_INVALID_ARGUMENT;
      return { error: { error: { code, message: res.message } } };
    }
    if (res.created) {
      const { ctx } = this;
      // The copy belongs to the installed generation (§5.4): an empty db attached since the last
      // recovery counts in the next; on a node not taken in (restarted, stopped) it does not.
      res.db.file.setMeta({
        pnn: ctx.pnn, generation: ctx.vnn.generation, valid: ctx.status.joined && ctx.isMember(ctx.pnn) ? 1 : 0, frozen: ctx.frozen() ? 1 : 0,
        incarnation: ctx.incarnation, lock_lease_ms: ctx.tunables.lockLeaseSeconds * 1000,
      });
      res.db.file.setLease(ctx.leaseUntilNs);
      ctx.log.info({ db: name, dbId: res.db.info.dbId }, 'db attached');
      this.onAttached(res.db);
    }
    return { db: res.db };
  }

  /** A client's attach: local, then every connected node. */
  cluster(name: string, persistent: boolean, reply: (body: EnvelopeInit) => void): void {
    const { ctx } = this;
    const res = this.local(name, persistent);
    if ('error' in res) return reply(res.error);
    const db = res.db;
    const info = { dbId: db.info.dbId, name: db.info.name, persistent: db.info.persistent, path: db.info.path };
    // Every connected node, witnesses included (they hold the db empty): a node not connected now
    // learns the db from NodeHello or the next recovery.
    const peers = ctx.peers().filter((p) => ctx.linksUp.has(p));
    if (peers.length === 0) return reply({ attachReply: { db: info } });
    const id = this.nextId++;
    this.pending.set(id, { db, waitingFor: new Set(peers), reply: (body) => reply(body) });
    for (const p of peers) ctx.sendNode(p, { attachDb: { attachId: id, db: { name: db.info.name, persistent: db.info.persistent, dbId: db.info.dbId } } });
    ctx.io.setTimer(`attach:${id}`, ctx.tunables.controlTimeoutMs);
  }

  onReply(from: number, attachId: number): void {
    const p = this.pending.get(attachId);
    if (p === undefined) return;
    p.waitingFor.delete(from);
    if (p.waitingFor.size > 0) return;
    this.pending.delete(attachId);
    this.ctx.io.cancelTimer(`attach:${attachId}`);
    const db = p.db.info;
    p.reply({ attachReply: { db: { dbId: db.dbId, name: db.name, persistent: db.persistent, path: db.path } } });
  }

  onTimeout(attachId: number): void {
    const p = this.pending.get(attachId);
    if (p === undefined) return;
    this.pending.delete(attachId);
    p.reply({ error: { code: ErrorCode.ERR_NODE_UNREACHABLE, message: `attach of ${p.db.info.name}: node(s) ${[...p.waitingFor].join(',')} did not answer` } });
  }
}
