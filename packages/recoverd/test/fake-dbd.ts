// A fake dbd answering the recovery controls of recovery.proto from memory (records, flags,
// generation, term fence), with failure injection. Not a test file: the tests import it.
import { RequestIds, type ReplyResult, type RequestId } from '@ctdbng/common';
import { decodeEnvelope, encodeEnvelope, ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';

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

const termed = ['freeze', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw', 'setNodeFlags'] as const;

function wrongGeneration(message: string): EnvelopeInit {
  return { error: { code: ErrorCode.ERR_WRONG_GENERATION, message } };
}

export function rec(key: string, rsn: number, dmaster: number, data: string, flags = 0): Rec {
  return { key: Buffer.from(key), rsn, dmaster, flags, data: Buffer.from(data) };
}

export class FakeDbd {
  incarnation: number;
  /** The installed generation. */
  generation = 0;
  vnnmap: number[] = [];
  stopped = false;
  banned = false;
  bannedSeconds = 0;
  inactive = false;
  frozen = false;
  /** The generation a recovery froze this node for (0 after the thaw). */
  freezeGeneration = 0;
  /** The highest generation ever frozen for (a freeze must be above it). */
  frozenForMax = 0;
  joined = true;
  witness = false;
  amnesiac = false;
  /** The dbd links this node reports up (default: every other node of the fake cluster). */
  linksUp: number[] | undefined;
  highestTerm = 0;
  /** The node's SharedAccessLease now (setvar on dbd changes it; the leader must read it, §2.2). */
  sharedAccessLeaseMs = 1000;
  recoveryRequests = 0;
  leader: number | undefined;
  lastRecoveryMs = 0;
  readonly dbs = new Map<number, FakeDb>();
  private readonly pushes = new Map<number, { db: FakeDb; records: Rec[]; member: boolean; generation: number }>();
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
      const admin = name === 'setNodeFlags' && term === 0;
      if (!admin && term < this.highestTerm) return { error: { code: ErrorCode.ERR_STALE_TERM, message: `term ${term} < ${this.highestTerm}` } };
      if (!admin) this.highestTerm = term;
    }
    return this.dispatch(env);
  }

  private dispatch(env: Envelope): EnvelopeInit {
    if (env.getNodeState) return { nodeState: this.state() };
    if (env.getDbMap) return { dbMap: { dbs: [...this.dbs.values()].map((d) => ({ dbId: d.dbId, name: d.name, persistent: d.persistent })) } };
    if (env.freeze) {
      const g = Number(env.freeze.generation ?? 0);
      if (g <= Math.max(this.generation, this.frozenForMax)) return wrongGeneration(`freeze ${g} not above ${Math.max(this.generation, this.frozenForMax)}`);
      this.frozen = true;
      this.freezeGeneration = g;
      this.frozenForMax = g;
      for (const [id] of this.pushes) this.pushes.delete(id);
      return { freezeReply: this.freezeReply() };
    }
    if (env.pullDb) {
      if (this.freezeGeneration === 0 || Number(env.pullDb.generation) !== this.freezeGeneration) return wrongGeneration('not frozen for it');
      return this.pull(env.pullDb.dbId ?? 0, env.pullDb.hasAfter ? Buffer.from(env.pullDb.afterKey ?? []) : undefined, env.pullDb.recordsMax ?? 0);
    }
    if (env.pushDbStart) {
      const m = env.pushDbStart;
      if (this.freezeGeneration === 0 || Number(m.generation) !== this.freezeGeneration) return wrongGeneration('not frozen for it');
      let db = this.dbs.get(m.dbId ?? 0);
      db ??= this.addDb(m.dbId ?? 0, m.name ?? '', [], { valid: false, generation: 0, persistent: m.persistent ?? false });
      this.pushes.set(Number(m.pushId), { db, records: [], member: m.member ?? false, generation: Number(m.generation) });
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
      if (Number(env.pushDbCommit.generation) !== this.freezeGeneration || p.generation !== this.freezeGeneration) return wrongGeneration('not frozen for it');
      if (!p.member && p.records.length > 0) return { error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: 'a witness holds no records' } };
      p.db.records = new Map(p.records.map((r) => [r.key.toString('latin1'), r]));
      p.db.generation = p.generation;
      p.db.valid = p.member;
      return { ok: {} };
    }
    if (env.installGeneration) {
      const m = env.installGeneration;
      const g = Number(m.generation ?? 0);
      if (!this.frozen || this.freezeGeneration !== g || g <= this.generation) return wrongGeneration('not frozen for it');
      if (!(m.participants ?? []).some((p) => p.pnn === this.pnn && p.incarnation === this.incarnation)) return wrongGeneration('not a participant');
      const member = (m.pnns ?? []).includes(this.pnn);
      for (const db of this.dbs.values()) {
        if (db.persistent) continue;
        const pushed = db.generation === g;
        if (pushed && member && m.leader === this.pnn) db.records = new Map([...db.records].map(([k, r]) => [k, { ...r, rsn: r.rsn + 1 }]));
        db.valid = pushed && member;
      }
      this.generation = g;
      this.vnnmap = [...(m.pnns ?? [])];
      this.amnesiac = false;
      return { ok: {} };
    }
    if (env.thaw) {
      const g = Number(env.thaw.generation);
      if (this.freezeGeneration !== g || this.generation !== g) return wrongGeneration('not installed');
      this.frozen = this.stopped || this.banned || this.inactive;
      this.freezeGeneration = 0;
      this.joined = true;
      return { ok: {} };
    }
    if (env.setNodeFlags) {
      const f = env.setNodeFlags;
      if ((f.banSeconds ?? 0) > 0) {
        this.banned = true;
        this.bannedSeconds = f.banSeconds ?? 0;
      }
      if (f.stop === true) this.stopped = true;
      if (f.cont === true) this.stopped = false;
      if (f.unban === true) this.banned = false;
      if (this.banned || this.stopped) {
        this.frozen = true;
        this.joined = false;
        for (const db of this.dbs.values()) if (!db.persistent) db.valid = false;
      }
      return { ok: {} };
    }
    if (env.setActive) {
      this.inactive = !env.setActive.active;
      if (this.inactive) {
        this.frozen = true;
        this.joined = false;
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
      linksUp: this.linksUp ?? [0, 1, 2, 3, 4, 5, 6].filter((p) => p !== this.pnn), witness: this.witness, amnesiac: this.amnesiac,
      frozenFor: this.freezeGeneration, joined: this.joined, quorum: true,
    };
  }

  freezeReply(): NonNullable<EnvelopeInit['freezeReply']> {
    return {
      pnn: this.pnn, incarnation: this.incarnation, installedGeneration: this.generation, amnesiac: this.amnesiac,
      dbs: [...this.dbs.values()].map((d) => ({ dbId: d.dbId, generation: d.generation, valid: d.valid })),
      sharedAccessLeaseMs: this.sharedAccessLeaseMs, leaseDriftMarginMs: 100, witness: this.witness, stopped: this.stopped, banned: this.banned, inactive: this.inactive,
    };
  }

  /** A dbd restart: a new incarnation, volatile copies wiped and invalid, not taken in (the state file kept). */
  restart(): void {
    this.incarnation += 100;
    this.frozen = true;
    this.freezeGeneration = 0;
    this.joined = false;
    this.vnnmap = [];
    for (const db of this.dbs.values()) if (!db.persistent) Object.assign(db, { records: new Map(), valid: false, generation: 0 });
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

/** What answers a core's requests and timers: a RecoverdCore, a LeaderLoop or a Recovery. */
export interface Sink {
  onReply(id: RequestId, result: ReplyResult): void;
  onTimer(id: 'lease-wait'): void;
}

interface Queued {
  id: RequestId;
  to: number;
  /** undefined: a timer. */
  env: Envelope | undefined;
}

/**
 * A tiny synchronous driver: the core's requests to fake dbds and its lease-wait timer queue up;
 * `run` answers them one at a time (FIFO, or in the order `pick` chooses) until none is left,
 * each answer through the sink — never inside the request, as the contract says. `down` nodes
 * answer "unreachable". Records what was in flight at once, for the pacing checks.
 */
export class DirectDbds {
  private readonly queue: Queued[] = [];
  private readonly ids = new RequestIds();
  /** The lease waits asked for (ms), in order. */
  readonly waits: number[] = [];
  /** Every request, in the order sent. */
  readonly sent: { to: number; env: Envelope }[] = [];
  /** The most PullDb requests in flight to one node for one db at once. */
  pullsPerNodeAndDbMax = 0;
  /** The most dbs with a PullDb or PushDb* in flight at once. */
  dbsInFlightMax = 0;
  /** The most PushDb* of one push in flight to one node at once. */
  pushesPerNodeMax = 0;

  constructor(readonly dbds: ReadonlyMap<number, FakeDbd>, readonly down: Set<number> = new Set()) {}

  readonly request = (to: number, body: EnvelopeInit, _timeoutMs: number): RequestId => {
    const id = this.ids.take();
    const env = roundTrip(body);
    this.sent.push({ to, env });
    this.queue.push({ id, to, env });
    this.measure();
    return id;
  };

  readonly setTimer = (_id: 'lease-wait', ms: number): void => {
    this.waits.push(ms);
    this.queue.push({ id: 0, to: -1, env: undefined });
  };

  /** Answers until nothing is queued; `pick(n)` chooses which of the n queued goes next (default: the first). */
  run(sink: Sink, pick: (n: number) => number = () => 0): void {
    for (let steps = 0; this.queue.length > 0; steps++) {
      if (steps > 1_000_000) throw new Error('driver: too many steps');
      const [q] = this.queue.splice(pick(this.queue.length), 1);
      if (q!.env === undefined) sink.onTimer('lease-wait');
      else sink.onReply(q!.id, this.answer(q!.to, q!.env));
    }
  }

  private answer(to: number, env: Envelope): ReplyResult {
    const d = this.dbds.get(to);
    if (d === undefined || this.down.has(to)) return { ok: false, reason: `node ${to} unreachable` };
    return { ok: true, env: roundTrip(d.handle(env)) };
  }

  private measure(): void {
    const pulls = new Map<string, number>();
    const pushes = new Map<string, number>();
    const dbs = new Set<string>();
    for (const q of this.queue) {
      const e = q.env;
      if (e?.pullDb) {
        const k = `${q.to}/${e.pullDb.dbId}`;
        pulls.set(k, (pulls.get(k) ?? 0) + 1);
        dbs.add(String(e.pullDb.dbId));
      }
      if (e?.pushDbStart || e?.pushDbBatch || e?.pushDbCommit) {
        const index = Number(e.pushDbStart?.pushId ?? e.pushDbBatch?.pushId ?? e.pushDbCommit?.pushId) % 0x10000;
        dbs.add(`push ${index}`);
        pushes.set(`${q.to}/${index}`, (pushes.get(`${q.to}/${index}`) ?? 0) + 1);
      }
    }
    this.pullsPerNodeAndDbMax = Math.max(this.pullsPerNodeAndDbMax, ...pulls.values());
    this.pushesPerNodeMax = Math.max(this.pushesPerNodeMax, ...pushes.values());
    this.dbsInFlightMax = Math.max(this.dbsInFlightMax, dbs.size);
  }
}
