// The requests the vacuumd core makes of its dbd (DESIGN §4, vacuum.proto), as reply events: each
// function builds the envelope body, sends it through the io (timeout ControlTimeout), and hands
// the decoded answer to its continuation when core.onReply brings it. One table of the requests
// in flight and what waits for each; a reply nobody waits for (late, duplicated, or its step was
// abandoned) is dropped.
import { ErrorCode, type Body, type BodyOf } from '@ctdbng/protocol';
import { assert, type ReplyResult, type RequestId } from '@ctdbng/common';
import {
  DbdRequestError,
  type DbdReply, type DbRef, type FeedBatch, type NodeResults, type NodeStateView, type PlanReply, type RequestBody,
  type SpaceReply, type TraverseBatch, type TunableSetting, type VacuumIo, type VacuumKey, type VacuumPhase,
} from './dbd-port.js';

const noBytes = new Uint8Array(0);

/** The reply body `k` of a result, or the DbdRequestError it stands for. */
export function replyOf<K extends Body>(r: ReplyResult, k: K): DbdReply<BodyOf<K>> {
  if (!r.ok) return { ok: false, err: new DbdRequestError(ErrorCode.ERR_TIMEOUT, `no reply from dbd (${k}): ${r.reason}`) };
  const env = r.env;
  if (env.body === 'error') return { ok: false, err: new DbdRequestError(env.error?.code ?? ErrorCode.ERR_UNSPECIFIED, env.error?.message ?? 'error reply') };
  const value = env[k];
  if (env.body !== k || value === null || value === undefined) {
    return { ok: false, err: new DbdRequestError(ErrorCode.ERR_BAD_MESSAGE, `expected ${k} from dbd, got ${env.body ?? 'no body'}`) };
  }
  return { ok: true, value: value as unknown as BodyOf<K> };
}

type On<T> = (r: DbdReply<T>) => void;

interface Waiter {
  what: string;
  deliver(r: ReplyResult): void;
}

/** Requests in flight at most (a pass waits for one at a time, plus refreshes): bounds a bug. */
export const requestsInFlightMax = 10_000;

/** Every request of one core in flight, and what waits for each answer. */
export class RequestTable {
  private readonly waiting = new Map<RequestId, Waiter>();
  /** Inside io.request: an answer must not come now (core-io contract: never inside the request). */
  private requesting = false;

  constructor(private readonly io: VacuumIo, private readonly timeoutMs: () => number) {}

  send(body: RequestBody, deliver: (r: ReplyResult) => void): RequestId {
    assert(this.waiting.size < requestsInFlightMax, 'vacuumd requests to dbd in flight past their bound');
    let id: RequestId;
    this.requesting = true;
    try {
      id = this.io.request(body, this.timeoutMs());
    } finally {
      this.requesting = false;
    }
    assert(!this.waiting.has(id), 'a request id given twice');
    this.waiting.set(id, { what: Object.keys(body)[0] ?? '?', deliver });
    return id;
  }

  /** Delivers an answer to what waits for it; false when nothing does (late, duplicate, abandoned). */
  onReply(id: RequestId, r: ReplyResult): boolean {
    assert(!this.requesting, 'an answer delivered inside its request');
    const w = this.waiting.get(id);
    if (w === undefined) return false;
    this.waiting.delete(id);
    w.deliver(r);
    return true;
  }

  forget(id: RequestId): void {
    this.waiting.delete(id);
  }

  /** The requests in flight and what each asked, oldest first (traces, tests). */
  inFlight(): { id: RequestId; what: string }[] {
    return [...this.waiting].map(([id, w]) => ({ id, what: w.what }));
  }
}

/**
 * The requests of one owner (a pass, the core's refreshes), typed: each function sends and hands
 * the decoded answer to `on`. The owner can abandon what it still waits for (a failed pass).
 * `wrap` runs every continuation (the core catches a failed pass's throw there).
 */
export class DbdRequests {
  private readonly mine = new Set<RequestId>();

  constructor(private readonly table: RequestTable, private readonly wrap: (fn: () => void) => void = (fn) => fn()) {}

  /** The ids this owner waits for. */
  waitingFor(): RequestId[] {
    return [...this.mine];
  }

  /** Stops waiting: the answers still to come are dropped. */
  abandon(): void {
    for (const id of this.mine) this.table.forget(id);
    this.mine.clear();
  }

  getDbMap(on: On<DbRef[]>): RequestId {
    return this.send({ getDbMap: {} }, 'dbMap', on, (m) => m.dbs.map((d) => ({ dbId: d.dbId ?? 0, name: d.name ?? '', persistent: d.persistent ?? false })));
  }

  getNodeState(on: On<NodeStateView>): RequestId {
    return this.send({ getNodeState: {} }, 'nodeState', on, (s) => ({ frozen: s.frozen, generation: Number(s.generation) }));
  }

  listTunables(on: On<TunableSetting[]>): RequestId {
    return this.send({ listTunables: {} }, 'tunableList', on, (l) => l.tunables.map((t) => ({ name: t.name ?? '', value: Number(t.value ?? 0) })));
  }

  deletedSince(dbId: number, cursor: number, limit: number, on: On<FeedBatch>): RequestId {
    return this.send({ deletedSince: { dbId, cursor, limit } }, 'deletedBatch', on, (b) => ({
      entries: b.entries.map((e) => ({ seq: Number(e.seq), key: e.key ?? noBytes, rsn: Number(e.rsn) })),
      epoch: b.epoch,
      lastSeq: Number(b.lastSeq),
    }));
  }

  ackDeleted(dbId: number, seq: number, on: On<void>): RequestId {
    return this.send({ ackDeleted: { dbId, seq } }, 'ok', on, () => undefined);
  }

  vacuumPlan(dbId: number, keys: readonly VacuumKey[], on: On<PlanReply>): RequestId {
    return this.send({ vacuumPlan: { dbId, keys: [...keys] } }, 'vacuumPlanReply', on, (r) => ({
      routes: r.routes, rsns: r.rsns.map(Number), generation: Number(r.generation), frozen: r.frozen,
    }));
  }

  migrateToLmaster(dbId: number, keys: readonly VacuumKey[], on: On<readonly boolean[]>): RequestId {
    return this.send({ migrateToLmaster: { dbId, keys: [...keys] } }, 'migrateToLmasterReply', on, (r) => r.migrated);
  }

  vacuumRemote(dbId: number, phase: VacuumPhase, keys: readonly VacuumKey[], on: On<NodeResults[]>): RequestId {
    return this.send({ vacuumRemote: { dbId, phase, keys: [...keys] } }, 'vacuumRemoteReply', on, (r) =>
      r.nodes.map((n) => ({ pnn: n.pnn ?? 0, results: n.results ?? [], refusedCode: n.refusedCode ?? 0 })));
  }

  purgeIfUnchanged(dbId: number, generation: number, keys: readonly VacuumKey[], on: On<readonly boolean[]>): RequestId {
    return this.send({ purgeIfUnchanged: { dbId, generation, keys: [...keys] } }, 'purgeIfUnchangedReply', on, (r) => r.purged);
  }

  reclaimSpace(dbId: number, pages: number, on: On<SpaceReply>): RequestId {
    return this.send({ reclaimSpace: { dbId, pages } }, 'reclaimSpaceReply', on, (r) => ({ freelistPages: Number(r.freelistPages), pageCount: Number(r.pageCount) }));
  }

  /** TraverseStart{local: true}: this node's records with headers, tombstones included. */
  traverseStart(dbId: number, on: On<TraverseBatch>): RequestId {
    return this.send({ traverseStart: { dbId, local: true } }, 'traverseBatch', on, traverseBatchOf);
  }

  traverseNext(traverseId: number, on: On<TraverseBatch>): RequestId {
    return this.send({ traverseNext: { traverseId } }, 'traverseBatch', on, traverseBatchOf);
  }

  traverseCancel(traverseId: number, on: On<void>): RequestId {
    return this.send({ traverseCancel: { traverseId } }, 'ok', on, () => undefined);
  }

  private send<K extends Body, T>(body: RequestBody, reply: K, on: On<T>, decode: (b: BodyOf<K>) => T): RequestId {
    const id = this.table.send(body, (r) => {
      this.mine.delete(id);
      const got = replyOf(r, reply);
      this.wrap(() => on(got.ok ? { ok: true, value: decode(got.value) } : got));
    });
    this.mine.add(id);
    return id;
  }
}

function traverseBatchOf(b: BodyOf<'traverseBatch'>): TraverseBatch {
  return {
    traverseId: Number(b.traverseId),
    records: b.records.map((r) => ({ key: r.key ?? noBytes, rsn: Number(r.header?.rsn ?? 0), dmaster: r.header?.dmaster ?? -1, dataBytes: r.data?.length ?? 0 })),
    done: b.done,
  };
}
