// Where each tombstone stands on this node (vacuum.proto VacuumPlan), so vacuumd can route it:
// gone, re-created, not ours, to the lmaster, local purge (never migrated with data, §4.1 fast
// path) or the cluster phases (§4.3), or busy (locked now).
import { ErrorCode, ctdbng, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';

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
  const routes: ctdbng.v1.VacuumRoute[] = [];
  const rsns: number[] = [];
  const members = ctx.vnn.pnns.length > 0;
  for (const k of m.keys) {
    const key = Buffer.from(k.key ?? Buffer.alloc(0));
    const rec = db.file.records.get(key);
    rsns.push(rec?.rsn ?? 0);
    if (rec === undefined) routes.push(Route.VACUUM_ROUTE_GONE);
    else if (rec.data.length > 0) routes.push(Route.VACUUM_ROUTE_RECREATED);
    else if (rec.dmaster !== ctx.pnn) routes.push(Route.VACUUM_ROUTE_NOT_DMASTER);
    else if (!members || (db.file.locks.get(key)?.holder ?? '') !== '') routes.push(Route.VACUUM_ROUTE_BUSY);
    else if (lmasterOf(key, ctx.vnn.pnns) !== ctx.pnn) routes.push(Route.VACUUM_ROUTE_TO_LMASTER);
    else if (neverLeft(rec)) routes.push(Route.VACUUM_ROUTE_LOCAL_PURGE);
    else routes.push(Route.VACUUM_ROUTE_CLUSTER);
  }
  reply({ vacuumPlanReply: { routes, rsns, generation: ctx.vnn.generation, frozen: ctx.frozen(), vnnmap: ctx.vnn.pnns } });
}
