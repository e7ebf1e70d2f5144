// Migration, DESIGN §2.1.4–5: the dmaster rewrites its copy to name the new dmaster and sends
// the record to the lmaster (DmasterRequest); the lmaster records the new dmaster and passes it
// on (DmasterReply); the new dmaster stores it with rsn + 1 and MIGRATED_WITH_DATA when
// non-empty. The old dmaster keeps its stale copy (redirects, recovery source).
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags, type RecordHeader, type StoredRecord } from '@ctdbng/store';
import type { ctdbng } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';

/** Hands the record to newDmaster. Called with the record lock held by token (released here). */
export function migrateOut(ctx: Ctx, db: DbState, key: Buffer, rec: StoredRecord, token: number, newDmaster: number, callId: number): void {
  db.file.tx(() => {
    db.file.records.setDmaster(key, newDmaster);
    db.file.locks.release(key, token);
  });
  ctx.stats.inc('migrations_out');
  const header = { rsn: rec.rsn, dmaster: newDmaster, flags: rec.flags };
  const lmaster = lmasterOf(key, ctx.vnn.pnns);
  if (lmaster === ctx.pnn) {
    ctx.sendNode(newDmaster, { dmasterReply: { dbId: db.info.dbId, key, header, data: rec.data, callId } });
  } else {
    ctx.sendNode(lmaster, { dmasterRequest: { dbId: db.info.dbId, key, header, data: rec.data, newDmaster, callId } });
  }
}

function headerOf(h: ctdbng.v1.IRecordHeader | null | undefined): RecordHeader {
  return { rsn: Number(h?.rsn ?? 0), dmaster: h?.dmaster ?? 0, flags: h?.flags ?? 0 };
}

/**
 * A broken invariant of the record flow seen in a node message: counted and logged, the state
 * left alone, a recovery asked for (it rebuilds every record from the copies that count, §5.3).
 * Never an InvariantError: another node's state, not this process's, is wrong.
 */
export function brokenInvariant(ctx: Ctx, db: DbState, what: string, detail: Record<string, unknown>): void {
  ctx.stats.inc('dmaster_mismatches');
  ctx.log.error({ db: db.info.name, ...detail }, what);
  ctx.wantRecovery(`${what} (db ${db.info.name})`);
}

/**
 * At the lmaster: record who the new dmaster is and pass the record on. The sender must be the
 * dmaster the lmaster recorded (§2.1.4): otherwise two nodes think they own the record, and
 * nothing is applied. Returns 'dmaster' when we became dmaster.
 */
export function onDmasterRequest(ctx: Ctx, db: DbState, from: number, msg: ctdbng.v1.DmasterRequest): 'dmaster' | 'passed' | 'refused' {
  const key = Buffer.from(msg.key);
  const header = headerOf(msg.header);
  if (msg.newDmaster === ctx.pnn) return becomeDmaster(ctx, db, key, header, Buffer.from(msg.data), from) ? 'dmaster' : 'refused';
  // The check and the write in one transaction (the read used to be one of its own).
  const recorded = db.file.tx(() => {
    const rec = db.file.records.get(key);
    if (rec === undefined || rec.dmaster !== from) return rec?.dmaster ?? null;
    db.file.records.put(key, { rsn: header.rsn, dmaster: msg.newDmaster, flags: header.flags }, msg.data);
    return from;
  });
  if (recorded !== from) {
    brokenInvariant(ctx, db, 'DmasterRequest from a node that is not the recorded dmaster', { from, recorded });
    return 'refused';
  }
  ctx.sendNode(msg.newDmaster, { dmasterReply: { dbId: db.info.dbId, key, header: { ...header, dmaster: msg.newDmaster }, data: msg.data, callId: msg.callId } });
  return 'passed';
}

/**
 * At the new dmaster: store with rsn + 1, so this copy is strictly the newest (§2.1.5). A local
 * copy already at that rsn or above breaks the rule: nothing is stored, a recovery is asked
 * for. With `from` (the lmaster became the dmaster of a DmasterRequest), the sender must also be
 * the dmaster recorded here (§2.1.4). Returns whether the record was stored.
 */
export function becomeDmaster(ctx: Ctx, db: DbState, key: Buffer, header: RecordHeader, data: Buffer, from?: number): boolean {
  const rsn = header.rsn + 1;
  const flags = data.length > 0 ? header.flags | RecordFlags.MIGRATED_WITH_DATA : header.flags;
  // The checks and the write in one transaction (the read used to be one of its own).
  const refused = db.file.tx((): (() => void) | undefined => {
    const stale = db.file.records.get(key);
    if (from !== undefined && (stale === undefined || stale.dmaster !== from)) {
      return () => brokenInvariant(ctx, db, 'DmasterRequest from a node that is not the recorded dmaster', { from, recorded: stale?.dmaster ?? null });
    }
    if (stale !== undefined && stale.rsn >= rsn) {
      return () => brokenInvariant(ctx, db, 'incoming record not newer than the local copy', { staleRsn: stale.rsn, incomingRsn: header.rsn });
    }
    db.file.records.put(key, { rsn, dmaster: ctx.pnn, flags }, data);
    // A tombstone that arrives by migration enters this node's vacuum feed (§4.1).
    if (data.length === 0) db.file.feed.append(key, rsn, db.file.meta.get().wipe_epoch);
    return undefined;
  });
  if (refused !== undefined) {
    refused();
    return false;
  }
  if (data.length === 0) ctx.feedGrew(db.info.dbId);
  ctx.stats.inc('migrations_in');
  return true;
}
