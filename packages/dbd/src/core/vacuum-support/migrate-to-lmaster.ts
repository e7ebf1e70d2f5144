// dbd starts migrations itself (DESIGN §2.1, §4.2): this node's tombstones go to their lmaster,
// in band, under the record lock, one VacuumFetch message per lmaster (CTDB's VACUUM_FETCH).
// The lmaster stores each as the new dmaster with rsn + 1 and enters it in its own feed.
import { ErrorCode, type BodyOf, type EnvelopeInit, type ctdbng } from '@ctdbng/protocol';
import { lmasterOf } from '@ctdbng/common';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';
import { migrationHolder } from '../locks/record-lock.js';
import { becomeDmaster, brokenInvariant } from '../record-flow/migrate.js';

type Reply = (body: EnvelopeInit) => void;

export function migrateToLmaster(ctx: Ctx, m: BodyOf<'migrateToLmaster'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  if (!ctx.serving()) return reply({ error: { code: ErrorCode.ERR_FROZEN, message: 'not serving records now (frozen or no lease)' } });
  const migrated = new Array<boolean>(m.keys.length).fill(false);
  // A slice at a time (slices.ts), one transaction per slice. Each slice's hand-overs are sent
  // as soon as it commits, as they were at the end of the batch before: no record is left named
  // to its lmaster without its VacuumFetch on the way.
  ctx.slices.run(m.keys.length, (from, to) => {
    if (!ctx.serving()) return false;
    const batches = new Map<number, ctdbng.v1.IRecord[]>();
    db.file.tx(() => {
      for (let i = from; i < to; i++) {
        const out = handOver(ctx, db, Buffer.from(m.keys[i]!.key ?? Buffer.alloc(0)));
        if (out === undefined) continue;
        migrated[i] = true;
        const list = batches.get(out.lmaster) ?? [];
        list.push(out.record);
        batches.set(out.lmaster, list);
      }
    });
    for (const [lmaster, records] of batches) {
      ctx.stats.inc('migrations_out', records.length);
      ctx.sendNode(lmaster, { vacuumFetch: { dbId: db.info.dbId, records } });
    }
    return true;
  }, () => reply({ migrateToLmasterReply: { migrated } }));
}

/** Under the record lock (call inside a transaction): a tombstone we are dmaster of names its lmaster as the new dmaster. */
function handOver(ctx: Ctx, db: DbState, key: Buffer): { lmaster: number; record: ctdbng.v1.IRecord } | undefined {
  const lmaster = lmasterOf(key, ctx.vnn.pnns);
  if (lmaster === ctx.pnn) return undefined;
  const rec = db.file.records.get(key);
  if (rec === undefined || rec.data.length > 0 || rec.dmaster !== ctx.pnn) return undefined;
  const token = ctx.newLockToken();
  if (!db.file.locks.take(key, { holder: migrationHolder, pid: 0, expiresNs: ctx.io.clock.nowNs() + 1e9, token })) return undefined;
  db.file.records.setDmaster(key, lmaster);
  db.file.locks.release(key, token);
  return { lmaster, record: { key, header: { rsn: rec.rsn, dmaster: lmaster, flags: rec.flags }, data: Buffer.alloc(0) } };
}

/** At the lmaster: take each handed-over tombstone as the new dmaster (rsn + 1). */
export function onVacuumFetch(ctx: Ctx, db: DbState, from: number, m: BodyOf<'vacuumFetch'>, arrived: (key: Buffer) => void): void {
  for (const r of m.records) {
    const key = Buffer.from(r.key ?? Buffer.alloc(0));
    const local = db.file.records.get(key);
    if (local === undefined || local.dmaster !== from) {
      brokenInvariant(ctx, db, 'VacuumFetch from a node that is not the recorded dmaster', { from, recorded: local?.dmaster ?? null });
      continue;
    }
    if (becomeDmaster(ctx, db, key, { rsn: Number(r.header?.rsn ?? 0), dmaster: ctx.pnn, flags: r.header?.flags ?? 0 }, Buffer.from(r.data ?? Buffer.alloc(0)))) arrived(key);
  }
}
