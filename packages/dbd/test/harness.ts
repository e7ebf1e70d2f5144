// An in-memory cluster of dbd cores (DESIGN §12 "core and shell"): N DbdCores in one process,
// each with its own CoreIo. Node messages and client traffic are encoded and decoded with the
// wire framing and queued; the harness delivers them one at a time (FIFO per link, optionally
// in a seeded random order across links, as ZeroMQ keeps order per connection only). Time is
// virtual: timers fire only in advance(). Not a test file: scenario tests import it.
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { bodyOf, type ctdbng, decodeEnvelope, encodeEnvelope, errorCodeName, type Body, type BodyOf, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { defaultTunables, parseNodesFile, silentLogger, type NodesFile, type TunableValues } from '@ctdbng/common';
import { DbFile, type DbIdentity, type StoredRecord } from '@ctdbng/store';
import { DbdCore } from '../src/core/dbd-core.js';
import type { CoreIo, NodeStateRecord, NodeStateStore } from '../src/core/io.js';
import { recover } from './recovery-driver.js';

/** mulberry32: small, seedable, good enough to pick schedules. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** The seed of a randomized test: $SEED replays one; printed first so a failure can be replayed. */
export function testSeed(name: string): number {
  const seed = process.env['SEED'] !== undefined ? Number(process.env['SEED']) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (replay with SEED=${seed})`);
  return seed;
}

export interface ClusterOptions {
  nodes?: number;
  seed?: number;
  /** Deliver in a seeded random order across links (FIFO per link stays). */
  reorder?: boolean;
  /** A directory for real db files (shared-access tests); default ':memory:'. */
  dir?: string;
  tunables?: Partial<TunableValues>;
  /** The db attached cluster-wide at start. */
  dbName?: string;
  /** Where virtual time starts; shared-access tests start it at the host clock, which their fence reads. */
  clockStartNs?: number;
}

interface Delivery {
  seq: number;
  /** The body name, for queued() and traces. */
  what: string;
  run: () => void;
}

/** A request sent by a test client; reply is set when the answer is delivered. */
export class Pending {
  reply: Envelope | undefined;
  constructor(readonly pnn: number, readonly clientId: string, readonly requestId: number, readonly onReply?: (env: Envelope) => void) {}

  get done(): boolean {
    return this.reply !== undefined;
  }

  /** The reply's body K; throws with the error code when the reply is something else. */
  body<K extends Body>(k: K): BodyOf<K> {
    const r = this.reply;
    if (r === undefined) throw new Error(`request ${this.requestId} on node ${this.pnn} has no reply yet`);
    if (r.body !== k) {
      const why = r.body === 'error' ? `${errorCodeName(r.error!.code ?? 0)}: ${r.error!.message}` : r.body;
      throw new Error(`expected ${k}, got ${why}`);
    }
    return bodyOf(r, k);
  }

  /** The error code name of an error reply, or undefined. */
  get errorCode(): string | undefined {
    return this.reply?.body === 'error' ? errorCodeName(this.reply.error!.code ?? 0) : undefined;
  }
}

export const startNs = 1_000_000_000;

/** A node state file in memory (it outlives a core: restart() builds a new one over it). */
export class MemoryNodeState implements NodeStateStore {
  state: NodeStateRecord = { installedGeneration: 0, highestTerm: 0, frozenFor: 0, amnesiac: false };
  saves = 0;
  load(): NodeStateRecord {
    return { ...this.state };
  }
  save(s: NodeStateRecord): void {
    this.saves++;
    this.state = { ...s };
  }
}

/** term × 2^32 + seq (DESIGN §1); the harness's recoveries run in term 1 unless told otherwise. */
export function gen(term: number, seq: number): number {
  return term * 2 ** 32 + seq;
}

export class Cluster {
  readonly cores: DbdCore[] = [];
  readonly rng: Prng;
  readonly nodes: NodesFile;
  readonly tunables: TunableValues;
  generation = 0;
  /** The term and sequence of the next recovery the harness runs itself (nextGeneration()). */
  term = 1;
  private seqInTerm = 0;
  readonly nodeStates: MemoryNodeState[] = [];
  dbId = 0;
  /** Virtual CLOCK_MONOTONIC. */
  now = startNs;
  /** Pids the harness has declared dead (isPidAlive of every node). */
  readonly deadPids = new Set<number>();
  /** Every message a client received (replies and pushed ClientMessages), per `pnn/clientId`. */
  readonly received = new Map<string, Envelope[]>();
  /** Node messages discarded on dropped links, and the highest call hopcount seen. */
  droppedCount = 0;
  maxHopcount = 0;
  /** Node messages sent, by body name. */
  readonly sentBodies = new Map<string, number>();
  /** Called after every delivery (invariant checkers). */
  onStep: (() => void) | undefined;
  private readonly queues = new Map<string, Delivery[]>();
  private readonly dropped = new Set<string>();
  private readonly timers: Map<string, { due: number; order: number }>[] = [];
  /** Events each core published (link changes, freeze/thaw, recovery wanted). */
  readonly events: ctdbng.v1.DbdEvent.$Properties[][] = [];
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private nextRequestId = 1;

  constructor(private readonly opts: ClusterOptions = {}) {
    const n = opts.nodes ?? 3;
    this.rng = new Prng(opts.seed ?? 1);
    this.nodes = parseNodesFile(Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`).join('\n'));
    this.tunables = { ...defaultTunables(), ...opts.tunables };
    this.now = opts.clockStartNs ?? startNs;
    for (let pnn = 0; pnn < n; pnn++) {
      this.timers.push(new Map());
      this.events.push([]);
      this.nodeStates.push(new MemoryNodeState());
      this.cores.push(this.newCore(pnn));
    }
  }

  private newCore(pnn: number): DbdCore {
    const cfg = { pnn, nodes: this.nodes, host: hostOf(pnn), tunables: { ...this.tunables }, log: silentLogger() };
    return new DbdCore(cfg, this.ioFor(pnn));
  }

  /** A generation above every one the harness made so far. */
  nextGeneration(): number {
    return gen(this.term, ++this.seqInTerm);
  }

  /**
   * A dbd restart: the core is replaced (new incarnation, state file kept, volatile copies
   * wiped as the shell does at start); its queued messages and timers are gone.
   */
  restart(pnn: number): DbdCore {
    const old = this.cores[pnn]!;
    const files = old.ctx.dbs.all().map((db) => db.info);
    old.stop();
    for (const link of [...this.queues.keys()]) if (link.startsWith(`n:${pnn}>`) || link.endsWith(`>${pnn}`) || link.startsWith(`r:${pnn}/`)) this.queues.delete(link);
    this.timers[pnn]!.clear();
    const core = this.newCore(pnn);
    this.cores[pnn] = core;
    core.start();
    for (const info of files) core.attach.local(info.name, info.persistent);
    for (const c of this.cores) if (c !== core) {
      core.onLinkUp(c.ctx.pnn);
      c.onLinkUp(pnn);
    }
    return core;
  }

  private ioFor(pnn: number): CoreIo {
    return {
      sendToClient: (clientId, env) => {
        const frame = encodeEnvelope(env);
        this.enqueue(`c:${pnn}/${clientId}`, bodyName(env), () => this.deliverToClient(pnn, clientId, frame));
      },
      sendToNode: (to, env) => {
        this.sentBodies.set(bodyName(env), (this.sentBodies.get(bodyName(env)) ?? 0) + 1);
        this.maxHopcount = Math.max(this.maxHopcount, env.callRequest?.hopcount ?? 0);
        if (this.dropped.has(`${pnn}>${to}`)) {
          this.droppedCount++;
          return;
        }
        const frame = encodeEnvelope(env);
        this.enqueue(`n:${pnn}>${to}`, bodyName(env), () => this.cores[to]!.onNodeMessage(decodeOk(frame)));
      },
      setTimer: (id, delayMs) => this.timers[pnn]!.set(id, { due: this.now + delayMs * 1e6, order: this.seq++ }),
      cancelTimer: (id) => void this.timers[pnn]!.delete(id),
      clock: { nowNs: () => this.now, nowMs: () => this.now / 1e6 },
      random: { next: () => this.rng.next() },
      wallMs: () => 1_795_000_000_000 + this.now / 1e6,
      isPidAlive: (pid) => !this.deadPids.has(pid),
      openDb: (identity: DbIdentity) =>
        DbFile.open(this.opts.dir === undefined ? ':memory:' : join(this.opts.dir, `${identity.name}.${identity.pnn}.sqlite`), identity),
      publish: (event) => this.events[pnn]!.push(event),
      nodeState: this.nodeStates[pnn]!,
    };
  }

  /**
   * Starts every core, brings every link up, attaches the db and runs a first recovery led by
   * node 0 (every dbd starts frozen, a stranger until a recovery takes it in): leases valid.
   */
  start(): this {
    for (const core of this.cores) core.start();
    for (const a of this.cores) for (const b of this.cores) if (a !== b) a.onLinkUp(b.ctx.pnn);
    this.runUntilIdle();
    const db = this.call(0, 'setup', { attach: { name: this.opts.dbName ?? 'test.tdb', persistent: false } }).body('attachReply').db;
    if (!db?.dbId) throw new Error('harness: attach answered without a db id');
    this.dbId = db.dbId;
    recover(this, 0, this.cores.map((c) => c.ctx.pnn));
    return this;
  }

  close(): void {
    for (const core of this.cores) core.stop();
  }

  // ---- delivery

  private enqueue(link: string, what: string, run: () => void): void {
    let q = this.queues.get(link);
    if (q === undefined) {
      q = [];
      this.queues.set(link, q);
    }
    q.push({ seq: this.seq++, what, run });
  }

  /** Delivers one queued message: the oldest, or (reorder) the head of a random link. */
  step(): boolean {
    let best: string | undefined;
    const links = [...this.queues.keys()];
    if (links.length === 0) return false;
    if (this.opts.reorder === true) best = this.rng.pick(links);
    else for (const l of links) if (best === undefined || this.queues.get(l)![0]!.seq < this.queues.get(best)![0]!.seq) best = l;
    this.deliverHead(best!);
    return true;
  }

  private deliverHead(link: string): void {
    const q = this.queues.get(link)!;
    const d = q.shift()!;
    if (q.length === 0) this.queues.delete(link);
    d.run();
    this.onStep?.();
  }

  /** Delivers the oldest node message on the link from → to (deterministic schedules). */
  deliver(from: number, to: number): void {
    const link = `n:${from}>${to}`;
    if (!this.queues.has(link)) throw new Error(`nothing queued from ${from} to ${to}`);
    this.deliverHead(link);
  }

  /** Body names queued on the link from → to, oldest first. */
  queued(from: number, to: number): string[] {
    return (this.queues.get(`n:${from}>${to}`) ?? []).map((d) => d.what);
  }

  /** Node links with messages queued, as [from, to]. */
  busyLinks(): [number, number][] {
    return [...this.queues.keys()].filter((l) => l.startsWith('n:')).map((l) => l.slice(2).split('>').map(Number) as [number, number]);
  }

  runUntilIdle(stepsMax = 2_000_000): number {
    let steps = 0;
    while (this.step()) if (++steps > stepsMax) throw new Error(`no quiescence after ${stepsMax} deliveries`);
    return steps;
  }

  /** Messages from → to are discarded (until heal). */
  drop(from: number, to: number): void {
    this.dropped.add(`${from}>${to}`);
  }

  heal(from: number, to: number): void {
    this.dropped.delete(`${from}>${to}`);
  }

  // ---- time

  /** The ids of the timers armed on node pnn now. */
  armedTimers(pnn: number): string[] {
    return [...this.timers[pnn]!.keys()].sort();
  }

  /** Moves virtual time forward, firing due timers in order (and delivering what they send). */
  advance(ms: number): void {
    const until = this.now + ms * 1e6;
    for (;;) {
      let next: { pnn: number; id: string; due: number; order: number } | undefined;
      this.timers.forEach((ts, pnn) => {
        for (const [id, t] of ts) if (t.due <= until && (next === undefined || t.due < next.due || (t.due === next.due && t.order < next.order))) next = { pnn, id, ...t };
      });
      if (next === undefined) break;
      this.now = Math.max(this.now, next.due);
      this.timers[next.pnn]!.delete(next.id);
      this.cores[next.pnn]!.onTimer(next.id);
      this.runUntilIdle();
    }
    this.now = until;
  }

  // ---- clients

  /** Sends a client request to node pnn (queued like any message); the reply lands in the handle. */
  request(pnn: number, clientId: string, init: EnvelopeInit, onReply?: (env: Envelope) => void): Pending {
    const requestId = this.nextRequestId++;
    const p = new Pending(pnn, clientId, requestId, onReply);
    this.pending.set(`${pnn}/${clientId}/${requestId}`, p);
    const frame = encodeEnvelope({ ...init, requestId });
    this.enqueue(`r:${pnn}/${clientId}`, bodyName(init), () => this.cores[pnn]!.onClientRequest(clientId, decodeOk(frame)));
    return p;
  }

  /** request, then run until idle; the handle has its reply (or the test fails). */
  call(pnn: number, clientId: string, init: EnvelopeInit): Pending {
    const p = this.request(pnn, clientId, init);
    this.runUntilIdle();
    if (!p.done) throw new Error(`no reply to ${Object.keys(init).join(',')} on node ${pnn}`);
    return p;
  }

  private deliverToClient(pnn: number, clientId: string, frame: Uint8Array): void {
    const env = decodeOk(frame);
    const who = `${pnn}/${clientId}`;
    this.received.set(who, [...(this.received.get(who) ?? []), env]);
    const p = this.pending.get(`${who}/${env.requestId}`);
    if (p === undefined) return;
    this.pending.delete(`${who}/${env.requestId}`);
    p.reply = env;
    p.onReply?.(env);
  }

  /** A client Hello from a local process (so dbd knows its pid). */
  hello(pnn: number, clientId: string, pid: number): void {
    this.call(pnn, clientId, { hello: { pid, name: clientId, host: hostOf(pnn) } }).body('helloReply');
  }

  fetchLock(pnn: number, clientId: string, key: Buffer, onReply?: (env: Envelope) => void): Pending {
    return this.request(pnn, clientId, { fetchLock: { dbId: this.dbId, key } }, onReply);
  }

  /** A store under token; data undefined = delete. */
  store(pnn: number, clientId: string, key: Buffer, token: number, data: Buffer | undefined, unlock = true, onReply?: (env: Envelope) => void): Pending {
    return this.request(pnn, clientId, { store: { dbId: this.dbId, key, token, data: data ?? Buffer.alloc(0), delete: data === undefined, unlock } }, onReply);
  }

  /** Delivers the oldest queued request of a client (deterministic schedules). */
  deliverRequest(pnn: number, clientId: string): void {
    const link = `r:${pnn}/${clientId}`;
    if (!this.queues.has(link)) throw new Error(`no request of ${clientId} queued on node ${pnn}`);
    this.deliverHead(link);
  }

  /** Delivers the oldest queued reply to a client (deterministic schedules). */
  deliverReply(pnn: number, clientId: string): void {
    const link = `c:${pnn}/${clientId}`;
    if (!this.queues.has(link)) throw new Error(`no reply to ${clientId} queued on node ${pnn}`);
    this.deliverHead(link);
  }

  /** fetch_lock + store(data, unlock) run to completion; returns the header fetch_lock saw. */
  write(pnn: number, clientId: string, key: Buffer, data: Buffer | undefined): { rsn: number; dmaster: number } {
    const fl = this.fetchLock(pnn, clientId, key);
    this.runUntilIdle();
    const r = fl.body('fetchLockReply');
    this.store(pnn, clientId, key, Number(r.token), data);
    this.runUntilIdle();
    return { rsn: Number(r.header!.rsn), dmaster: r.header!.dmaster ?? 0 };
  }

  // ---- inspection

  record(pnn: number, key: Buffer): StoredRecord | undefined {
    return this.cores[pnn]!.ctx.dbs.get(this.dbId)!.file.records.get(key);
  }

  /** Copies of a key on every node, by pnn. */
  copies(key: Buffer): { pnn: number; rec: StoredRecord }[] {
    return this.cores.flatMap((c) => {
      const rec = this.record(c.ctx.pnn, key);
      return rec === undefined ? [] : [{ pnn: c.ctx.pnn, rec }];
    });
  }

  /** Sum of a statistics counter over all nodes, or one node's. */
  stat(name: Parameters<DbdCore['stats']['get']>[0], pnn?: number): number {
    return pnn === undefined ? this.cores.reduce((s, c) => s + c.stats.get(name), 0) : this.cores[pnn]!.stats.get(name);
  }

  /**
   * Has node `from` send a node message to `to` stamped with `generation` instead of its own
   * (next link sequence number and its incarnation, as if it were in that generation).
   */
  sendAs(from: number, to: number, init: EnvelopeInit, generation: number): void {
    const ctx = this.cores[from]!.ctx;
    const saved = ctx.vnn;
    ctx.vnn = { ...saved, generation };
    try {
      ctx.sendNode(to, init);
    } finally {
      ctx.vnn = saved;
    }
  }

  /** Hands a node message (with its own node header) to a core through the wire framing. */
  inject(to: number, env: EnvelopeInit): void {
    this.cores[to]!.onNodeMessage(decodeOk(encodeEnvelope(env)));
  }
}

export function hostOf(pnn: number): string {
  return `host${pnn}`;
}

function bodyName(env: EnvelopeInit): string {
  return Object.keys(env).find((k) => !['version', 'requestId', 'targetPnn', 'node'].includes(k)) ?? '?';
}

function decodeOk(frame: Uint8Array): Envelope {
  const dec = decodeEnvelope(frame);
  if (!dec.ok) throw new Error(`harness: undecodable frame: ${dec.error.message}`);
  return dec.envelope;
}

/** A started cluster, stopped when the test ends. */
export function startCluster(opts: ClusterOptions = {}): Cluster {
  const c = new Cluster(opts).start();
  onTestFinished(() => c.close());
  return c;
}

/** The first key (k0, k1, ...) whose lmaster is pnn under the vnnmap. */
export function keyWithLmaster(lmasterOf: (key: Buffer) => number, pnn: number, prefix = 'k'): Buffer {
  for (let i = 0; ; i++) {
    const key = Buffer.from(`${prefix}${i}`);
    if (lmasterOf(key) === pnn) return key;
  }
}
