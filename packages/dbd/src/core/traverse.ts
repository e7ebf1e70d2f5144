// Traverse (DESIGN §2.3): cluster-wide, each member sends pages of the live records it is
// dmaster of (keyset pagination on the primary key), one page in flight or buffered per
// member, so the client's pace bounds memory; local (cattdb) pages through this node's store.
// A cluster-wide traverse belongs to the generation it started in: every page request carries
// it (the node header), and a traverse that crosses a recovery fails with ERR_WRONG_GENERATION
// instead of returning a record twice or missing one (the client may start it again).
import { ErrorCode, traverseBatchBytesMax, type ctdbng } from '@ctdbng/protocol';
import type { StoredRecord } from '@ctdbng/store';
import type { Ctx } from './ctx.js';
import type { DbState } from './databases.js';

type RecordInit = ctdbng.v1.IRecord;

interface MemberCursor {
  pnn: number;
  after: Buffer | undefined;
  done: boolean;
  page: RecordInit[] | undefined;
  inflight: boolean;
}

interface TraverseState {
  id: number;
  clientId: string;
  db: DbState;
  local: boolean;
  /** The generation a cluster-wide traverse started in. */
  generation: number;
  members: MemberCursor[];
  /** The request id of the client's TraverseStart/Next waiting for a batch. */
  waiting: number | undefined;
  /** Why the traverse failed while no request waited: the client's next TraverseNext gets it. */
  failed: { code: ErrorCode; message: string } | undefined;
  lastActivityNs: number;
}

export const traversesMax = 256;
const idleNsMax = 120e9;

function toInit(r: StoredRecord): RecordInit {
  return { key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, data: r.data };
}

/** Cuts a page at traverseBatchBytesMax of key+data (at least one record). */
export function capPage(rows: StoredRecord[]): { rows: StoredRecord[]; cut: boolean } {
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    bytes += rows[i]!.key.length + rows[i]!.data.length;
    if (bytes > traverseBatchBytesMax && i > 0) return { rows: rows.slice(0, i), cut: true };
  }
  return { rows, cut: false };
}

/** One page of live records this node is dmaster of (served to any member's traverse). */
export function readLivePage(ctx: Ctx, db: DbState, after: Buffer | undefined): { records: RecordInit[]; done: boolean; lastKey: Buffer | undefined } {
  const limit = ctx.tunables.traverseBatchRecordsCount;
  const raw = db.file.records.pageLive(after, ctx.pnn, limit);
  const { rows, cut } = capPage(raw);
  return { records: rows.map(toInit), done: !cut && raw.length < limit, lastKey: rows.at(-1)?.key };
}

export class Traverses {
  private readonly byId = new Map<number, TraverseState>();
  private nextId = 1;

  constructor(private readonly ctx: Ctx) {}

  start(clientId: string, requestId: number, db: DbState, local: boolean): void {
    const { ctx } = this;
    if (this.byId.size >= traversesMax) {
      ctx.io.sendToClient(clientId, { requestId, error: { code: ErrorCode.ERR_BUSY, message: `${traversesMax} traverses are running` } });
      return;
    }
    if (!local && (ctx.status.recoveryFreeze !== 0 || !ctx.status.joined || !ctx.isMember(ctx.pnn))) {
      ctx.io.sendToClient(clientId, { requestId, error: { code: ErrorCode.ERR_FROZEN, message: 'this node is not serving records now (recovery, or not a member): traverse later' } });
      return;
    }
    const pnns = local ? [ctx.pnn] : ctx.vnn.pnns;
    const t: TraverseState = {
      id: this.nextId++, clientId, db, local, generation: ctx.vnn.generation, waiting: requestId, failed: undefined, lastActivityNs: ctx.io.clock.nowNs(),
      members: pnns.map((pnn) => ({ pnn, after: undefined, done: false, page: undefined, inflight: false })),
    };
    this.byId.set(t.id, t);
    ctx.stats.inc('traverses');
    this.fill(t);
    this.serve(t);
  }

  next(clientId: string, requestId: number, traverseId: number): void {
    const t = this.byId.get(traverseId);
    if (t === undefined || t.clientId !== clientId) {
      this.ctx.io.sendToClient(clientId, { requestId, error: { code: ErrorCode.ERR_NOT_FOUND, message: `no traverse ${traverseId}` } });
      return;
    }
    t.waiting = requestId;
    t.lastActivityNs = this.ctx.io.clock.nowNs();
    if (t.failed !== undefined) return this.fail(t, t.failed.code, t.failed.message);
    this.fill(t);
    this.serve(t);
  }

  cancel(traverseId: number): void {
    this.byId.delete(traverseId);
    this.ctx.io.cancelTimer(`traverse:${traverseId}`);
  }

  /** A member's page arrived. */
  onPage(from: number, msg: ctdbng.v1.TraversePageReply): void {
    const t = this.byId.get(Number(msg.traverseId));
    const m = t?.members.find((x) => x.pnn === from);
    if (t === undefined || m === undefined || !m.inflight) return;
    m.inflight = false;
    if (msg.errorCode !== 0) {
      const why = msg.errorCode === ErrorCode.ERR_WRONG_GENERATION ? 'a recovery ran during the traverse' : `node ${from} refused a page`;
      return this.fail(t, msg.errorCode, `traverse: ${why}; start it again`);
    }
    m.page = msg.records;
    m.done = msg.done;
    m.after = msg.lastKey.length > 0 ? Buffer.from(msg.lastKey) : m.after;
    if (t.members.every((x) => !x.inflight)) this.ctx.io.cancelTimer(`traverse:${t.id}`);
    this.serve(t);
  }

  /** A member did not answer within ControlTimeout: the traverse fails (§1: never skipped). */
  onTimeout(traverseId: number): void {
    const t = this.byId.get(traverseId);
    if (t === undefined) return;
    const missing = t.members.filter((m) => m.inflight).map((m) => m.pnn);
    this.fail(t, ErrorCode.ERR_NODE_UNREACHABLE, `traverse: node(s) ${missing.join(',')} did not answer`);
  }

  /** Forgets traverses of clients that stopped asking. */
  sweep(): void {
    const now = this.ctx.io.clock.nowNs();
    for (const t of this.byId.values()) if (now - t.lastActivityNs > idleNsMax) this.cancel(t.id);
  }

  private fail(t: TraverseState, code: ErrorCode, message: string): void {
    if (t.waiting === undefined) {
      t.failed ??= { code, message };
      return;
    }
    this.ctx.io.sendToClient(t.clientId, { requestId: t.waiting, error: { code, message } });
    t.waiting = undefined;
    this.cancel(t.id);
  }

  /** Asks every member without a buffered page for its next one. */
  private fill(t: TraverseState): void {
    const { ctx } = this;
    if (!t.local && (ctx.vnn.generation !== t.generation || ctx.status.recoveryFreeze !== 0)) {
      return this.fail(t, ErrorCode.ERR_WRONG_GENERATION, 'traverse: a recovery ran during the traverse; start it again');
    }
    for (const m of t.members) {
      if (m.done || m.page !== undefined || m.inflight) continue;
      if (m.pnn === ctx.pnn) {
        const page = t.local ? this.readLocalPage(t, m.after) : readLivePage(ctx, t.db, m.after);
        m.page = page.records;
        m.done = page.done;
        m.after = page.lastKey ?? m.after;
        continue;
      }
      m.inflight = true;
      ctx.sendNode(m.pnn, {
        traversePage: { traverseId: t.id, dbId: t.db.info.dbId, afterKey: m.after ?? Buffer.alloc(0), hasAfter: m.after !== undefined, recordsMax: ctx.tunables.traverseBatchRecordsCount },
      });
      ctx.io.setTimer(`traverse:${t.id}`, ctx.tunables.controlTimeoutMs);
    }
  }

  private readLocalPage(t: TraverseState, after: Buffer | undefined): { records: RecordInit[]; done: boolean; lastKey: Buffer | undefined } {
    const limit = this.ctx.tunables.traverseBatchRecordsCount;
    const raw = t.db.file.records.pageAll(after, limit);
    const { rows, cut } = capPage(raw);
    return { records: rows.map(toInit), done: !cut && raw.length < limit, lastKey: rows.at(-1)?.key };
  }

  /** Answers the waiting client with one buffered page, or with done when nothing is left. */
  private serve(t: TraverseState): void {
    if (t.waiting === undefined || !this.byId.has(t.id)) return;
    const ready = t.members.find((m) => m.page !== undefined && m.page.length > 0);
    const finished = t.members.every((m) => m.done && (m.page === undefined || m.page.length === 0));
    if (ready === undefined && !finished) {
      // Empty pages of unfinished members: ask again.
      for (const m of t.members) if (m.page !== undefined && m.page.length === 0) m.page = undefined;
      this.fill(t);
      if (t.members.some((m) => m.page !== undefined && m.page.length > 0) || t.members.every((m) => m.done)) this.serve(t);
      return;
    }
    const records = ready?.page ?? [];
    if (ready !== undefined) ready.page = undefined;
    const done = t.members.every((m) => m.done && (m.page === undefined || m.page.length === 0));
    this.ctx.io.sendToClient(t.clientId, { requestId: t.waiting, traverseBatch: { traverseId: t.id, records, done } });
    t.waiting = undefined;
    if (done) this.cancel(t.id);
    else this.fill(t);
  }
}
