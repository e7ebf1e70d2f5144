// Where each tombstone stands on this node (vacuum.proto VacuumPlan), so vacuumd can route it:
// gone, re-created, not ours, to the lmaster, local purge (never migrated with data, §4.1 fast
// path) or the cluster phases (§4.3), or busy (locked now).
import { ErrorCode, ctdbng, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags, type StoredRecord } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';

const Route = ctdbng.v1.VacuumRoute;
type Reply = (body: EnvelopeInit) => void;

/**
 * The fast path of §4.1, made exact: a record the lmaster created (rsn 1) and never migrated
 * (any migration raises the receiver's rsn) exists on no other node. DESIGN's wording — "never
 * migrated with data" — is not enough: a record created empty at the lmaster, migrated empty to
 * a client's node and deleted there leaves empty stale copies on the nodes it passed, which only
 * the cluster phases (StoreTombstone, TryDelete) remove.
 */
function neverLeft(rec: { rsn: number; flags: number }): boolean {
  return rec.rsn === 1 && (rec.flags & RecordFlags.MIGRATED_WITH_DATA) === 0;
}

export function vacuumPlan(ctx: Ctx, m: BodyOf<'vacuumPlan'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  // The plan is of the generation at its start: keys a later slice finds under another one are
  // BUSY (vacuumd plans them again), and vacuumd's next steps carry that generation.
  const generation = ctx.vnn.generation;
  const pnns = ctx.vnn.pnns;
  const routes = new Array<ctdbng.v1.VacuumRoute>(m.keys.length).fill(Route.VACUUM_ROUTE_BUSY);
  const rsns = new Array<number>(m.keys.length).fill(0);
  // A slice at a time (slices.ts), its reads in one read transaction instead of two of their own
  // per key; a read transaction does not hold writers (shared-access clients) off.
  ctx.slices.run(m.keys.length, (from, to) => {
    if (ctx.vnn.generation !== generation) return false;
    db.file.read(() => {
      for (let i = from; i < to; i++) {
        const key = Buffer.from(m.keys[i]!.key ?? Buffer.alloc(0));
        const rec = db.file.records.get(key);
        rsns[i] = rec?.rsn ?? 0;
        routes[i] = routeOf(ctx, db, key, rec, pnns);
      }
    });
    return true;
  }, () => reply({ vacuumPlanReply: { routes, rsns, generation, frozen: ctx.frozen(), vnnmap: pnns } }));
}

function routeOf(ctx: Ctx, db: DbState, key: Buffer, rec: StoredRecord | undefined, pnns: readonly number[]): ctdbng.v1.VacuumRoute {
  if (rec === undefined) return Route.VACUUM_ROUTE_GONE;
  if (rec.data.length > 0) return Route.VACUUM_ROUTE_RECREATED;
  if (rec.dmaster !== ctx.pnn) return Route.VACUUM_ROUTE_NOT_DMASTER;
  if (pnns.length === 0 || (db.file.locks.get(key)?.holder ?? '') !== '') return Route.VACUUM_ROUTE_BUSY;
  if (lmasterOf(key, pnns) !== ctx.pnn) return Route.VACUUM_ROUTE_TO_LMASTER;
  if (neverLeft(rec)) return Route.VACUUM_ROUTE_LOCAL_PURGE;
  return Route.VACUUM_ROUTE_CLUSTER;
}
