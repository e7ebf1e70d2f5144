// The core's Dbd (core/dbd-port.ts) over the client socket: one request per function, the reply
// decoded into the core's plain shapes (protobufjs gives uint64 as numbers, number-longs.ts).
import type { VacuumPausePoint } from '@ctdbng/common';
import { VacuumPhase, type Dbd, type DbRef, type FeedBatch, type LocalRecord, type NodeResults, type NodeStateView, type PlanReply, type SpaceReply, type VacuumKey } from '../core/dbd-port.js';
import type { DbdConnection } from './dbd-connection.js';

const noBytes = new Uint8Array(0);

export class DbdAdapter implements Dbd {
  /**
   * @param pauseAfter fault injection (tests, run/faults.json "pauseAfter"): resolves when vacuumd
   *   may go on after a remote phase; a switch in the transport, not in the vacuum logic.
   */
  constructor(private readonly c: DbdConnection, private readonly pauseAfter: (point: VacuumPausePoint) => Promise<void> = async () => undefined) {}

  async getDbMap(): Promise<readonly DbRef[]> {
    const m = await this.c.request({ getDbMap: {} }, 'dbMap');
    return m.dbs.map((d) => ({ dbId: d.dbId ?? 0, name: d.name ?? '', persistent: d.persistent ?? false }));
  }

  async getNodeState(): Promise<NodeStateView> {
    const s = await this.c.request({ getNodeState: {} }, 'nodeState');
    return { frozen: s.frozen, generation: s.generation };
  }

  async deletedSince(dbId: number, cursor: number, limit: number): Promise<FeedBatch> {
    const b = await this.c.request({ deletedSince: { dbId, cursor, limit } }, 'deletedBatch');
    return { entries: b.entries.map((e) => ({ seq: Number(e.seq), key: e.key ?? noBytes, rsn: Number(e.rsn) })), epoch: b.epoch, lastSeq: Number(b.lastSeq) };
  }

  async ackDeleted(dbId: number, seq: number): Promise<void> {
    await this.c.request({ ackDeleted: { dbId, seq } }, 'ok');
  }

  async vacuumPlan(dbId: number, keys: readonly VacuumKey[]): Promise<PlanReply> {
    const r = await this.c.request({ vacuumPlan: { dbId, keys: [...keys] } }, 'vacuumPlanReply');
    return { routes: r.routes, rsns: r.rsns.map(Number), generation: r.generation, frozen: r.frozen };
  }

  async migrateToLmaster(dbId: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]> {
    return (await this.c.request({ migrateToLmaster: { dbId, keys: [...keys] } }, 'migrateToLmasterReply')).migrated;
  }

  async vacuumRemote(dbId: number, phase: VacuumPhase, keys: readonly VacuumKey[]): Promise<readonly NodeResults[]> {
    const r = await this.c.request({ vacuumRemote: { dbId, phase, keys: [...keys] } }, 'vacuumRemoteReply');
    await this.pauseAfter(phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? 'storeTombstone' : 'tryDelete');
    return r.nodes.map((n) => ({ pnn: n.pnn ?? 0, results: n.results ?? [], refusedCode: n.refusedCode ?? 0 }));
  }

  async purgeIfUnchanged(dbId: number, generation: number, keys: readonly VacuumKey[]): Promise<readonly boolean[]> {
    return (await this.c.request({ purgeIfUnchanged: { dbId, generation, keys: [...keys] } }, 'purgeIfUnchangedReply')).purged;
  }

  async reclaimSpace(dbId: number, pages: number): Promise<SpaceReply> {
    const r = await this.c.request({ reclaimSpace: { dbId, pages } }, 'reclaimSpaceReply');
    return { freelistPages: Number(r.freelistPages), pageCount: Number(r.pageCount) };
  }

  /** TraverseStart{local} then TraverseNext until done; a consumer that stops early cancels it. */
  async *traverseLocal(dbId: number): AsyncIterable<readonly LocalRecord[]> {
    let batch = await this.c.request({ traverseStart: { dbId, local: true } }, 'traverseBatch');
    let done = false;
    try {
      for (;;) {
        yield batch.records.map((r) => ({ key: r.key ?? noBytes, rsn: Number(r.header?.rsn ?? 0), dmaster: r.header?.dmaster ?? -1, dataBytes: r.data?.length ?? 0 }));
        if (batch.done) break;
        batch = await this.c.request({ traverseNext: { traverseId: batch.traverseId } }, 'traverseBatch');
      }
      done = true;
    } finally {
      if (!done && !batch.done) await this.c.request({ traverseCancel: { traverseId: batch.traverseId } }, 'ok').catch(() => undefined /* dbd ends idle traverses itself */);
    }
  }
}
