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
  // A slice of pages at a time (slices.ts): incremental_vacuum holds the file's write lock while
  // it moves pages, ~ms for vacuumd's 256. A push opened meanwhile ends it early (what is left
  // is in the reply; vacuumd steps again at its next pass).
  if (!(m.pages > 0)) {
    // No count: incremental_vacuum(0) frees the whole free list, in one step as before.
    const all = retryBusy(() => db.file.reclaim(0));
    return reply({ reclaimSpaceReply: { freelistPages: all.freelistPages, pageCount: all.pageCount } });
  }
  let left = Math.min(m.pages, 100_000);
  let space = { freelistPages: 0, pageCount: 0 };
  ctx.slices.repeat(() => {
    if (db.file.pushOpen) return false;
    const pages = Math.min(left, reclaimPagesPerSlice);
    space = retryBusy(() => db.file.reclaim(pages));
    left -= pages;
    return left > 0 && space.freelistPages > 0;
  }, () => reply({ reclaimSpaceReply: { freelistPages: space.freelistPages, pageCount: space.pageCount } }));
}

/** Pages moved per incremental_vacuum: a fraction of a ms of the write lock. */
export const reclaimPagesPerSlice = 32;
