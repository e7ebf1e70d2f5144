// A fake dbd answering the recovery controls of recovery.proto from memory (records, flags,
// generation, term fence), with failure injection. Not a test file: the tests import it.
import { decodeEnvelope, encodeEnvelope, ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { DbdRpc } from '../src/core/io.js';

export interface Rec {
  key: Buffer;
  rsn: number;
  dmaster: number;
  flags: number;
  data: Buffer;
}

export interface FakeDb {
  dbId: number;
  name: string;
  persistent: boolean;
  records: Map<string, Rec>;
  valid: boolean;
  generation: number;
}

const termed = ['freeze', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw'] as const;

export function rec(key: string, rsn: number, dmaster: number, data: string, flags = 0): Rec {
  return { key: Buffer.from(key), rsn, dmaster, flags, data: Buffer.from(data) };
}

export class FakeDbd {
  incarnation: number;
  generation = 0;
  vnnmap: number[] = [];
  stopped = false;
  banned = false;
  bannedSeconds = 0;
  inactive = false;
  frozen = false;
  freezeGeneration = 0;
  highestTerm = 0;
  recoveryRequests = 0;
  leader: number | undefined;
  lastRecoveryMs = 0;
  readonly dbs = new Map<number, FakeDb>();
  private readonly pushes = new Map<number, { db: FakeDb; records: Rec[]; bump: boolean }>();
  /** Control names answered with ERR_INTERNAL. */
  readonly failOn = new Set<string>();
  /** Every control received, by body name. */
  readonly received: string[] = [];

  constructor(readonly pnn: number) {
    this.incarnation = 1000 + pnn;
  }

  addDb(dbId: number, name: string, records: Rec[], o: { valid?: boolean; generation?: number; persistent?: boolean } = {}): FakeDb {
    const db: FakeDb = { dbId, name, persistent: o.persistent ?? false, records: new Map(records.map((r) => [r.key.toString('latin1'), r])), valid: o.valid ?? true, generation: o.generation ?? this.generation };
    this.dbs.set(dbId, db);
    return db;
  }

  get(dbId: number, key: string): Rec | undefined {
    return this.dbs.get(dbId)?.records.get(Buffer.from(key).toString('latin1'));
  }

  handle(env: Envelope): EnvelopeInit {
    const name = String(env.body);
    this.received.push(name);
    if (this.failOn.has(name)) return { error: { code: ErrorCode.ERR_INTERNAL, message: `injected failure of ${name}` } };
    if ((termed as readonly string[]).includes(name)) {
      const term = Number((env as unknown as Record<string, { term?: number }>)[name]!.term ?? 0);
      if (term < this.highestTerm) return { error: { code: ErrorCode.ERR_STALE_TERM, message: `term ${term} < ${this.highestTerm}` } };
      this.highestTerm = term;
    }
    return this.dispatch(env);
  }

  private dispatch(env: Envelope): EnvelopeInit {
    if (env.getNodeState) return { nodeState: this.state() };
    if (env.getDbMap) return { dbMap: { dbs: [...this.dbs.values()].map((d) => ({ dbId: d.dbId, name: d.name, persistent: d.persistent })) } };
    if (env.freeze) {
      this.frozen = true;
      this.freezeGeneration = env.freeze.generation ?? 0;
      for (const [id] of this.pushes) this.pushes.delete(id);
      return { ok: {} };
    }
    if (env.pullDb) return this.pull(env.pullDb.dbId ?? 0, env.pullDb.hasAfter ? Buffer.from(env.pullDb.afterKey ?? []) : undefined, env.pullDb.recordsMax ?? 0);
    if (env.pushDbStart) {
      const m = env.pushDbStart;
      let db = this.dbs.get(m.dbId ?? 0);
      db ??= this.addDb(m.dbId ?? 0, m.name ?? '', [], { valid: false, generation: 0, persistent: m.persistent ?? false });
      this.pushes.set(Number(m.pushId), { db, records: [], bump: m.bumpRsn ?? false });
      return { ok: {} };
    }
    if (env.pushDbBatch) {
      const p = this.pushes.get(Number(env.pushDbBatch.pushId));
      if (p === undefined) return { error: { code: ErrorCode.ERR_NOT_FOUND, message: 'no push' } };
      for (const r of env.pushDbBatch.records ?? []) {
        p.records.push({ key: Buffer.from(r.key ?? []), rsn: Number(r.header?.rsn ?? 0), dmaster: r.header?.dmaster ?? 0, flags: r.header?.flags ?? 0, data: Buffer.from(r.data ?? []) });
      }
      return { ok: {} };
    }
    if (env.pushDbCommit) {
      const p = this.pushes.get(Number(env.pushDbCommit.pushId));
      if (p === undefined) return { error: { code: ErrorCode.ERR_NOT_FOUND, message: 'no push' } };
      this.pushes.delete(Number(env.pushDbCommit.pushId));
      p.db.records = new Map(p.records.map((r) => [r.key.toString('latin1'), p.bump ? { ...r, rsn: r.rsn + 1 } : r]));
      p.db.generation = env.pushDbCommit.generation ?? 0;
      return { ok: {} };
    }
    if (env.installGeneration) {
      const g = env.installGeneration.generation ?? 0;
      if (!this.frozen || this.freezeGeneration !== g) return { error: { code: ErrorCode.ERR_WRONG_GENERATION, message: 'not frozen for it' } };
      this.generation = g;
      this.vnnmap = [...(env.installGeneration.pnns ?? [])];
      for (const db of this.dbs.values()) if (!db.persistent) Object.assign(db, { valid: true, generation: g });
      return { ok: {} };
    }
    if (env.thaw) {
      if (this.generation !== env.thaw.generation) return { error: { code: ErrorCode.ERR_WRONG_GENERATION, message: 'not installed' } };
      this.frozen = false;
      return { ok: {} };
    }
    if (env.setNodeFlags) {
      if ((env.setNodeFlags.banSeconds ?? 0) > 0) {
        this.banned = true;
        this.bannedSeconds = env.setNodeFlags.banSeconds ?? 0;
        this.frozen = true;
      }
      return { ok: {} };
    }
    if (env.setActive) {
      this.inactive = !env.setActive.active;
      if (this.inactive) {
        this.frozen = true;
        for (const db of this.dbs.values()) if (!db.persistent) db.valid = false;
      }
      return { ok: {} };
    }
    if (env.setLeader) {
      this.leader = env.setLeader.hasLeader ? env.setLeader.leader ?? 0 : undefined;
      if ((env.setLeader.lastRecoveryMs ?? 0) > 0) this.lastRecoveryMs = Number(env.setLeader.lastRecoveryMs);
      return { ok: {} };
    }
    if (env.requestRecovery) {
      this.recoveryRequests += 1;
      return { ok: {} };
    }
    return { error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `fake dbd does not know ${String(env.body)}` } };
  }

  state(): NonNullable<EnvelopeInit['nodeState']> {
    const dbs = [...this.dbs.values()];
    return {
      pnn: this.pnn, incarnation: this.incarnation, generation: this.generation, vnnmap: this.vnnmap, stopped: this.stopped, banned: this.banned,
      inactive: this.inactive, frozen: this.frozen, recoveryRequests: this.recoveryRequests, dbIds: dbs.map((d) => d.dbId), dbNames: dbs.map((d) => d.name),
      highestTerm: this.highestTerm, leader: this.leader ?? 0, hasLeader: this.leader !== undefined, lastRecoveryMs: this.lastRecoveryMs,
    };
  }

  private pull(dbId: number, after: Buffer | undefined, max: number): EnvelopeInit {
    const db = this.dbs.get(dbId);
    if (db === undefined) return { error: { code: ErrorCode.ERR_UNKNOWN_DB, message: 'no such db' } };
    const all = [...db.records.values()].sort((a, b) => Buffer.compare(a.key, b.key)).filter((r) => after === undefined || Buffer.compare(r.key, after) > 0);
    const page = all.slice(0, Math.max(1, max));
    return {
      pullDbReply: {
        records: page.map((r) => ({ key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, data: r.data })),
        done: page.length === all.length,
        lastKey: page.at(-1)?.key ?? Buffer.alloc(0),
        valid: db.valid,
        generation: db.generation,
      },
    };
  }
}

/** Encodes and decodes like the wire would. */
export function roundTrip(init: EnvelopeInit): Envelope {
  const dec = decodeEnvelope(encodeEnvelope({ requestId: 1, ...init }));
  if (!dec.ok) throw dec.error;
  return dec.envelope;
}

/** A DbdRpc over fake dbds answering at once; `down` nodes fail as unreachable. */
export function directRpc(dbds: ReadonlyMap<number, FakeDbd>, down: Set<number> = new Set()): DbdRpc {
  return {
    request: async (pnn, body) => {
      const d = dbds.get(pnn);
      if (d === undefined || down.has(pnn)) throw new Error(`node ${pnn} unreachable`);
      return roundTrip(d.handle(roundTrip(body)));
    },
  };
}
