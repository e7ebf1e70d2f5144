// A fake dbd in memory for the vacuumd core (STYLE §3): a feed, per-key answers for every vacuum
// step, a local store for the full scan, and a log of every request. It answers the core's request
// envelopes with reply envelopes, as dbd's client socket does (the rig encodes both on the wire
// format and decodes them again). Not a test file.
import { bodyOf, ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { VacuumPhase, VacuumResult, VacuumRoute, type DbRef, type FeedBatch, type LocalRecord, type NodeResults, type NodeStateView, type PlanReply, type SpaceReply, type VacuumKey } from '../src/index.js';

export const volatileDb: DbRef = { dbId: 11, name: 'v.db', persistent: false };
export const persistentDb: DbRef = { dbId: 22, name: 'p.db', persistent: true };

export const k = (s: string): Buffer => Buffer.from(s);
const name = (key: Uint8Array): string => Buffer.from(key).toString();

/** dbd answering a request with an Error reply of this code. */
export class FakeDbdError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/** Records per traverse batch (small, so a scan takes several TraverseNext). */
const traverseBatchRecords = 2;

export class FakeDbd {
  dbs: DbRef[] = [volatileDb, persistentDb];
  frozen = false;
  generation = 7;
  epoch = 1;
  feed: { seq: number; key: Buffer; rsn: number }[] = [];
  acked = 0;
  /** Route per key (default CLUSTER). */
  routes = new Map<string, VacuumRoute>();
  /** Per key and phase, the answer of each member (default: pnn 0..2 STORED / DELETED). */
  remote = new Map<string, (phase: VacuumPhase) => VacuumResult[]>();
  refused: { pnn: number; code: number } | undefined;
  migrateOk = new Set<string>();
  purgeRefused = new Set<string>();
  planFrozen = false;
  /** The tombstone's rsn here now, when it differs from the feed's. */
  planRsn = new Map<string, number>();
  local: LocalRecord[] = [];
  freelistPages = 0;
  calls: string[] = [];
  purged: string[] = [];
  members = [0, 1, 2];
  /** Request bodies dbd does not answer (the core sees no reply after the request's timeout). */
  silent = new Set<string>();
  /** dbd's tunables (ListTunables). */
  tunables: { name: string; value: number }[] = [];
  /** Request bodies dbd answers with this error code. */
  failing = new Map<string, ErrorCode>();
  private traverses = new Map<number, number>();
  private traverseIdNext = 1;

  delete(key: string, rsn = 2): void {
    this.feed.push({ seq: (this.feed.at(-1)?.seq ?? 0) + 1, key: k(key), rsn });
  }

  callsOf(what: string): string[] {
    return this.calls.filter((c) => c.startsWith(what));
  }

  /** The reply to one request envelope; undefined: no reply at all. */
  answer(env: Envelope): EnvelopeInit | undefined {
    const body = env.body ?? '';
    if (this.silent.has(body)) return undefined;
    const code = this.failing.get(body);
    if (code !== undefined) return { error: { code, message: `${body} failed` } };
    try {
      return this.dispatch(env);
    } catch (err) {
      if (err instanceof FakeDbdError) return { error: { code: err.code, message: err.message } };
      throw err;
    }
  }

  private dispatch(env: Envelope): EnvelopeInit {
    const keys = (ks: readonly { key?: Uint8Array | null; rsn?: number | null }[]): VacuumKey[] => ks.map((x) => ({ key: x.key ?? new Uint8Array(0), rsn: Number(x.rsn ?? 0) }));
    switch (env.body) {
      case 'getDbMap': return { dbMap: { dbs: this.dbs } };
      case 'getNodeState': return { nodeState: this.getNodeState() };
      case 'listTunables': return { tunableList: { tunables: this.tunables } };
      case 'deletedSince': {
        const b = bodyOf(env, 'deletedSince');
        const batch = this.deletedSince(b.dbId, Number(b.cursor), b.limit);
        return { deletedBatch: { ...batch, entries: [...batch.entries] } };
      }
      case 'ackDeleted':
        this.acked = Number(bodyOf(env, 'ackDeleted').seq);
        return { ok: {} };
      case 'vacuumPlan': {
        const b = bodyOf(env, 'vacuumPlan');
        const plan = this.vacuumPlan(b.dbId, keys(b.keys));
        return { vacuumPlanReply: { ...plan, routes: [...plan.routes], rsns: [...plan.rsns] } };
      }
      case 'migrateToLmaster': {
        const b = bodyOf(env, 'migrateToLmaster');
        return { migrateToLmasterReply: { migrated: [...this.migrateToLmaster(b.dbId, keys(b.keys))] } };
      }
      case 'vacuumRemote': {
        const b = bodyOf(env, 'vacuumRemote');
        return { vacuumRemoteReply: { nodes: this.vacuumRemote(b.dbId, b.phase, keys(b.keys)).map((n) => ({ ...n, results: [...n.results] })) } };
      }
      case 'purgeIfUnchanged': {
        const b = bodyOf(env, 'purgeIfUnchanged');
        return { purgeIfUnchangedReply: { purged: [...this.purgeIfUnchanged(b.dbId, Number(b.generation), keys(b.keys))] } };
      }
      case 'reclaimSpace': {
        const b = bodyOf(env, 'reclaimSpace');
        return { reclaimSpaceReply: this.reclaimSpace(b.dbId, b.pages) };
      }
      case 'traverseStart': return this.traverseStart();
      case 'traverseNext': return this.traverseBatch(Number(bodyOf(env, 'traverseNext').traverseId));
      case 'traverseCancel':
        this.calls.push('traverse-cancel');
        this.traverses.delete(Number(bodyOf(env, 'traverseCancel').traverseId));
        return { ok: {} };
      default: return { error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `fake dbd does not serve ${env.body}` } };
    }
  }

  getNodeState(): NodeStateView {
    return { frozen: this.frozen, generation: this.generation };
  }

  deletedSince(dbId: number, cursor: number, limit: number): FeedBatch {
    this.calls.push(`deletedSince ${dbId} ${cursor}`);
    this.refuseIfFrozen();
    const entries = this.feed.filter((e) => e.seq > cursor).slice(0, limit);
    return { entries, epoch: this.epoch, lastSeq: this.feed.at(-1)?.seq ?? 0 };
  }

  vacuumPlan(_dbId: number, keys: readonly VacuumKey[]): PlanReply {
    this.calls.push(`plan ${keys.map((x) => name(x.key)).join(',')}`);
    this.refuseIfFrozen();
    return {
      routes: keys.map((x) => this.routes.get(name(x.key)) ?? VacuumRoute.VACUUM_ROUTE_CLUSTER),
      rsns: keys.map((x) => this.planRsn.get(name(x.key)) ?? x.rsn),
      generation: this.generation,
      frozen: this.planFrozen,
    };
  }

  migrateToLmaster(_dbId: number, keys: readonly VacuumKey[]): readonly boolean[] {
    this.calls.push(`migrate ${keys.map((x) => name(x.key)).join(',')}`);
    return keys.map((x) => this.migrateOk.has(name(x.key)));
  }

  vacuumRemote(_dbId: number, phase: VacuumPhase, keys: readonly VacuumKey[]): readonly NodeResults[] {
    this.calls.push(`remote ${phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? 'store' : 'delete'} ${keys.map((x) => name(x.key)).join(',')}`);
    const fallback = phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? VacuumResult.VACUUM_RESULT_STORED : VacuumResult.VACUUM_RESULT_DELETED;
    return this.members.map((pnn) => {
      if (this.refused?.pnn === pnn) return { pnn, results: [], refusedCode: this.refused.code };
      return { pnn, refusedCode: 0, results: keys.map((x) => this.remote.get(name(x.key))?.(phase)[pnn] ?? fallback) };
    });
  }

  purgeIfUnchanged(_dbId: number, generation: number, keys: readonly VacuumKey[]): readonly boolean[] {
    this.calls.push(`purge ${generation} ${keys.map((x) => `${name(x.key)}@${x.rsn}`).join(',')}`);
    return keys.map((x) => {
      const ok = !this.purgeRefused.has(name(x.key));
      if (ok) this.purged.push(name(x.key));
      return ok;
    });
  }

  reclaimSpace(_dbId: number, pages: number): SpaceReply {
    this.calls.push(`reclaim ${pages}`);
    this.freelistPages = Math.max(0, this.freelistPages - pages);
    return { freelistPages: this.freelistPages, pageCount: 1000 + this.freelistPages };
  }

  private traverseStart(): EnvelopeInit {
    this.calls.push('traverse');
    const id = this.traverseIdNext++;
    this.traverses.set(id, 0);
    return this.traverseBatch(id);
  }

  private traverseBatch(id: number): EnvelopeInit {
    const at = this.traverses.get(id);
    if (at === undefined) return { error: { code: ErrorCode.ERR_NOT_FOUND, message: `no traverse ${id}` } };
    const records = this.local.slice(at, at + traverseBatchRecords);
    const done = at + traverseBatchRecords >= this.local.length;
    if (done) this.traverses.delete(id);
    else this.traverses.set(id, at + traverseBatchRecords);
    return {
      traverseBatch: {
        traverseId: id,
        done,
        records: records.map((r) => ({ key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: 0 }, data: Buffer.alloc(r.dataBytes) })),
      },
    };
  }

  private refuseIfFrozen(): void {
    if (this.frozen) throw new FakeDbdError(ErrorCode.ERR_FROZEN, 'frozen');
  }
}
