// A fake dbd in memory for the vacuumd core (STYLE §3): a feed, per-key answers for every vacuum
// step, a local store for the full scan, and a log of every request. Not a test file.
import { ErrorCode } from '@ctdbng/protocol';
import { DbdRequestError, VacuumPhase, VacuumResult, VacuumRoute, type Clock, type Dbd, type DbRef, type FeedBatch, type LocalRecord, type NodeResults, type NodeStateView, type PlanReply, type SpaceReply, type VacuumKey } from '../src/index.js';

export const volatileDb: DbRef = { dbId: 11, name: 'v.db', persistent: false };
export const persistentDb: DbRef = { dbId: 22, name: 'p.db', persistent: true };

export const k = (s: string): Buffer => Buffer.from(s);
const name = (key: Uint8Array): string => Buffer.from(key).toString();

/** Virtual time: sleeping advances it at once. */
export class FakeClock implements Clock {
  t = 1_000_000;
  nowMs(): number {
    return this.t;
  }
  async sleepMs(ms: number): Promise<void> {
    this.t += ms;
  }
}

export class FakeDbd implements Dbd {
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

  delete(key: string, rsn = 2): void {
    this.feed.push({ seq: (this.feed.at(-1)?.seq ?? 0) + 1, key: k(key), rsn });
  }

  callsOf(what: string): string[] {
    return this.calls.filter((c) => c.startsWith(what));
  }

  async getDbMap(): Promise<readonly DbRef[]> {
    return this.dbs;
  }

  async getNodeState(): Promise<NodeStateView> {
    return { frozen: this.frozen, generation: this.generation };
  }

  async deletedSince(dbId: number, cursor: number, limit: number): Promise<FeedBatch> {
    this.calls.push(`deletedSince ${dbId} ${cursor}`);
    this.refuseIfFrozen();
    const entries = this.feed.filter((e) => e.seq > cursor).slice(0, limit);
    return { entries, epoch: this.epoch, lastSeq: this.feed.at(-1)?.seq ?? 0 };
  }

  async ackDeleted(_dbId: number, seq: number): Promise<void> {
    this.acked = seq;
  }

  async vacuumPlan(_dbId: number, keys: readonly VacuumKey[]): Promise<PlanReply> {
    this.calls.push(`plan ${keys.map((x) => name(x.key)).join(',')}`);
    this.refuseIfFrozen();
    return {
      routes: keys.map((x) => this.routes.get(name(x.key)) ?? VacuumRoute.VACUUM_ROUTE_CLUSTER),
      rsns: keys.map((x) => this.planRsn.get(name(x.key)) ?? x.rsn),
      generation: this.generation,
      frozen: this.planFrozen,
    };
  }

  async migrateToLmaster(_dbId: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]> {
    this.calls.push(`migrate ${keys.map((x) => name(x.key)).join(',')}`);
    return keys.map((x) => this.migrateOk.has(name(x.key)));
  }

  async vacuumRemote(_dbId: number, phase: VacuumPhase, keys: readonly VacuumKey[]): Promise<readonly NodeResults[]> {
    this.calls.push(`remote ${phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? 'store' : 'delete'} ${keys.map((x) => name(x.key)).join(',')}`);
    const fallback = phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? VacuumResult.VACUUM_RESULT_STORED : VacuumResult.VACUUM_RESULT_DELETED;
    return this.members.map((pnn) => {
      if (this.refused?.pnn === pnn) return { pnn, results: [], refusedCode: this.refused.code };
      return { pnn, refusedCode: 0, results: keys.map((x) => this.remote.get(name(x.key))?.(phase)[pnn] ?? fallback) };
    });
  }

  async purgeIfUnchanged(_dbId: number, generation: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]> {
    this.calls.push(`purge ${generation} ${keys.map((x) => `${name(x.key)}@${x.rsn}`).join(',')}`);
    return keys.map((x) => {
      const ok = !this.purgeRefused.has(name(x.key));
      if (ok) this.purged.push(name(x.key));
      return ok;
    });
  }

  async reclaimSpace(_dbId: number, pages: number): Promise<SpaceReply> {
    this.calls.push(`reclaim ${pages}`);
    this.freelistPages = Math.max(0, this.freelistPages - pages);
    return { freelistPages: this.freelistPages, pageCount: 1000 + this.freelistPages };
  }

  async *traverseLocal(_dbId: number): AsyncIterable<readonly LocalRecord[]> {
    this.calls.push('traverse');
    for (let i = 0; i < this.local.length; i += 2) yield this.local.slice(i, i + 2);
  }

  private refuseIfFrozen(): void {
    if (this.frozen) throw new DbdRequestError(ErrorCode.ERR_FROZEN, 'frozen');
  }
}
