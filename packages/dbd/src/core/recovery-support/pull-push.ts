// Pull and push of a db for recovery (DESIGN §5.3.2). Pull: pages of every record with headers
// (stale copies and tombstones too), packed by SQLite in key order (recovery.proto's layout, no
// message per record), plus the copy's validity (§5.4). Push: packed pages checked, then written
// by prepared multi-row statements into the push's transaction. Wipe, batches and
// the meta update (copy generation; valid for a member, not for a witness) in one SQLite
// transaction (DbFile.beginPush/commitPush), so a failed push leaves the old contents. Both are
// accepted only for the generation a recovery froze this incarnation for.
import { checkPackedPage, ErrorCode, frameBytesMax, type EnvelopeInit, type BodyOf } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';
import type { ClusterAttach } from '../attach.js';

/** Records per pull page at most, and bytes of packed page (half a frame leaves room for the envelope). */
export const pullRecordsMax = 20_000;
const pullBytesMax = frameBytesMax / 2;
/** Open pushes at once (one per db is the normal case). */
export const pushesMax = 1024;

type Reply = (body: EnvelopeInit) => void;

function unknownDb(dbId: number): EnvelopeInit {
  return { error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${dbId.toString(16)} is attached` } };
}

/** The refusal of a recovery step for `generation` unless this incarnation is frozen for it. */
export function notFrozenFor(ctx: Ctx, generation: number): EnvelopeInit | undefined {
  const frozenFor = ctx.status.recoveryFreeze;
  if (generation !== 0 && frozenFor === generation) return undefined;
  return { error: { code: ErrorCode.ERR_WRONG_GENERATION, message: `not frozen for generation ${generation} (frozen for ${frozenFor})` } };
}

export function pullPage(ctx: Ctx, msg: BodyOf<'pullDb'>, reply: Reply): void {
  const refused = notFrozenFor(ctx, msg.generation);
  if (refused !== undefined) return reply(refused);
  const db = ctx.dbs.get(msg.dbId);
  if (db === undefined) return reply(unknownDb(msg.dbId));
  const limit = Math.max(1, Math.min(msg.recordsMax || pullRecordsMax, pullRecordsMax));
  const p = db.file.records.pagePacked(msg.hasAfter ? msg.afterKey : undefined, limit, pullBytesMax);
  const meta = db.file.meta.get();
  reply({
    pullDbReply: {
      packedRecords: p.page,
      recordCount: p.records,
      done: p.done,
      lastKey: p.lastKey ?? Buffer.alloc(0),
      valid: meta.valid === 1,
      generation: meta.generation,
    },
  });
}

export class Pushes {
  private readonly open = new Map<number, { db: DbState; generation: number; member: boolean; records: number; startNs: number }>();

  constructor(private readonly ctx: Ctx, private readonly attach: ClusterAttach) {}

  start(msg: BodyOf<'pushDbStart'>, reply: Reply): void {
    const refused = notFrozenFor(this.ctx, msg.generation);
    if (refused !== undefined) return reply(refused);
    let db = this.ctx.dbs.get(msg.dbId);
    if (db === undefined) {
      const res = this.attach.local(msg.name, msg.persistent);
      if ('error' in res) return reply(res.error);
      db = res.db;
    }
    if (db.info.dbId !== msg.dbId) return reply({ error: { code: ErrorCode.ERR_DB_CONFLICT, message: `db '${msg.name}' has another id here` } });
    // A push still open on this db belongs to an interrupted recovery: it is rolled back.
    for (const [id, p] of this.open) if (p.db === db) this.abort(id);
    if (this.open.size >= pushesMax) return reply({ error: { code: ErrorCode.ERR_BUSY, message: 'too many open pushes' } });
    db.file.beginPush();
    this.open.set(Number(msg.pushId), { db, generation: msg.generation, member: msg.member, records: 0, startNs: this.ctx.io.clock.nowNs() });
    reply({ ok: {} });
  }

  batch(msg: BodyOf<'pushDbBatch'>, reply: Reply): void {
    const p = this.open.get(Number(msg.pushId));
    if (p === undefined) return reply({ error: { code: ErrorCode.ERR_NOT_FOUND, message: `no open push ${msg.pushId}` } });
    const checked = checkPackedPage(msg.packedRecords, { records: msg.recordCount, ascending: false });
    if (!checked.ok) return reply({ error: { code: ErrorCode.ERR_BAD_MESSAGE, message: `push ${msg.pushId}: ${checked.why}` } });
    if (!p.member && msg.recordCount > 0) return reply({ error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'a witness holds no records' } });
    p.records += p.db.file.pushPacked(msg.packedRecords, msg.recordCount);
    reply({ ok: {} });
  }

  commit(msg: BodyOf<'pushDbCommit'>, reply: Reply): void {
    const id = Number(msg.pushId);
    const p = this.open.get(id);
    if (p === undefined) return reply({ error: { code: ErrorCode.ERR_NOT_FOUND, message: `no open push ${msg.pushId}` } });
    const refused = notFrozenFor(this.ctx, msg.generation) ?? (msg.generation === p.generation ? undefined : notFrozenFor(this.ctx, 0));
    if (refused !== undefined) {
      this.abort(id);
      return reply(refused);
    }
    this.open.delete(id);
    p.db.file.commitPush(msg.generation, p.member);
    // The per-key flow state described the old contents.
    for (const ks of p.db.keys.values()) ks.inflight = undefined;
    const pushMs = Math.round((this.ctx.io.clock.nowNs() - p.startNs) / 1e5) / 10;
    this.ctx.log.info({ db: p.db.info.name, records: p.records, generation: msg.generation, pushMs }, 'db pushed');
    reply({ ok: {} });
  }

  abort(id: number): void {
    const p = this.open.get(id);
    if (p === undefined) return;
    this.open.delete(id);
    p.db.file.abortPush();
    this.ctx.log.warn({ db: p.db.info.name }, 'recovery push rolled back');
  }

  abortAll(): void {
    for (const id of [...this.open.keys()]) this.abort(id);
  }
}
