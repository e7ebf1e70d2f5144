// Purge (DESIGN §4.4): the lmaster removes its own tombstone only if, under the record lock (a
// write transaction per slice of the batch, slices.ts), it is still a tombstone with the same
// rsn, this node still its dmaster and lmaster, and the generation unchanged. Also ReclaimSpace (§4.6).
import { ErrorCode, type BodyOf, type EnvelopeInit, type ctdbng } from '@ctdbng/protocol';
import { lmasterOf } from '@ctdbng/common';
import { retryBusy } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';

type Reply = (body: EnvelopeInit) => void;

export function purgeIfUnchanged(ctx: Ctx, m: BodyOf<'purgeIfUnchanged'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  const purged = new Array<boolean>(m.keys.length).fill(false);
  // A slice at a time (slices.ts); each slice re-checks the generation, as a later batch would.
  ctx.slices.run(m.keys.length, (from, to) => {
    if (!(ctx.serving() && m.generation === ctx.vnn.generation)) return false;
    db.file.tx(() => {
      for (let i = from; i < to; i++) purged[i] = purgeOne(ctx, db, m.keys[i]!);
    });
    return true;
  }, () => reply({ purgeIfUnchangedReply: { purged } }));
}

function purgeOne(ctx: Ctx, db: DbState, k: ctdbng.v1.IVacuumKey): boolean {
  const key = Buffer.from(k.key ?? Buffer.alloc(0));
  const rec = db.file.records.get(key);
  if (rec === undefined || rec.data.length > 0 || rec.rsn !== Number(k.rsn)) return false;
  if (rec.dmaster !== ctx.pnn || lmasterOf(key, ctx.vnn.pnns) !== ctx.pnn) return false;
  if (db.file.locks.get(key) !== undefined) return false; // locked or wanted by a waiter
  return db.file.records.remove(key);
}

export function reclaimSpace(ctx: Ctx, m: BodyOf<'reclaimSpace'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  if (db.file.pushOpen) return reply({ error: { code: ErrorCode.ERR_BUSY, message: 'a recovery push is open on this db' } });
  // incremental_vacuum is a write transaction of its own, outside db.file.tx(): without the
  // bounded busy retry every other write gets, a checkpoint or a shared-access client holding the
  // file made it fail raw (SQLITE_BUSY → ERR_INTERNAL, "request failed inside dbd"); now it
  // retries and past the bound answers ERR_BUSY, which vacuumd retries at its next pass.
  const left = retryBusy(() => db.file.reclaim(Math.min(m.pages, 100_000)));
  reply({ reclaimSpaceReply: { freelistPages: left.freelistPages, pageCount: left.pageCount } });
}
