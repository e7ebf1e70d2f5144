// An in-memory cluster of recoverd cores (DESIGN §12): each core with a fake dbd, messages
// encoded and decoded as on the wire, delivered after 1–5 virtual ms (seeded), controls answered
// after 1 virtual ms (or failed after their timeout when unreachable), partitions, kills and
// restarts. Time is virtual and every event runs to completion: the cores never wait. Checks
// after every event that no term has two leaders. Not a test file: the tests import it.
import { decodeEnvelope, encodeEnvelope, type EnvelopeInit } from '@ctdbng/protocol';
import { defaultTunables, parseNodesFile, RequestIds, silentLogger, type ReplyResult, type RequestId, type TunableValues } from '@ctdbng/common';
import { nullMetrics, type DbdTarget, type PersistedVote, type RecoverdIo, type TimerId, type VoteStore } from '../src/core/io.js';
import { RecoverdCore } from '../src/core/recoverd-core.js';
import { FakeDbd, roundTrip } from './fake-dbd.js';

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
}

class VirtualTime {
  now = 0;
  private seq = 0;
  private readonly queue: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  at(delayMs: number, fn: () => void): () => void {
    const ev = { at: this.now + Math.max(0, delayMs), seq: this.seq++, fn, live: true };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > ev.at || (this.queue[i - 1]!.at === ev.at && this.queue[i - 1]!.seq > ev.seq))) i--;
    this.queue.splice(i, 0, ev);
    return () => void (ev.live = false);
  }

  runUntil(t: number, afterEach: () => void): void {
    for (let steps = 0; steps < 10_000_000; steps++) {
      const ev = this.queue[0];
      if (ev === undefined || ev.at > t) break;
      this.queue.shift();
      if (!ev.live) continue;
      this.now = ev.at;
      ev.fn();
      afterEach();
    }
    this.now = Math.max(this.now, t);
  }
}

export class MemVotes implements VoteStore {
  v: PersistedVote = { term: 0, votedFor: undefined };
  saves = 0;
  load(): PersistedVote {
    return { ...this.v };
  }
  save(v: PersistedVote): void {
    this.v = { ...v };
    this.saves += 1;
  }
}

interface SimNode {
  pnn: number;
  core: RecoverdCore;
  dbd: FakeDbd;
  votes: MemVotes;
  timers: Map<TimerId, () => void>;
  /** The recoverd runs. */
  up: boolean;
  /** The node's dbd answers. */
  dbdUp: boolean;
}

export class SimCluster {
  readonly time = new VirtualTime();
  readonly nodes: SimNode[] = [];
  readonly tunables: TunableValues;
  /** term → the one node that led it. */
  readonly leadersByTerm = new Map<number, number>();
  /** One line per event handled by a core: the same seed gives the same trace. */
  readonly trace: string[] = [];
  private readonly blocked = new Set<string>();
  private readonly prng: Prng;
  private readonly nodesFile;

  constructor(readonly size: number, seed: number, tunables: Partial<TunableValues> = {}, witnesses: readonly number[] = []) {
    this.prng = new Prng(seed);
    this.tunables = { ...defaultTunables(), ...tunables };
    this.nodesFile = parseNodesFile(Array.from({ length: size }, (_, i) => `10.0.0.${i + 1}${witnesses.includes(i) ? ' witness' : ''}`).join('\n'));
    for (let p = 0; p < size; p++) {
      const dbd = new FakeDbd(p);
      dbd.witness = witnesses.includes(p);
      this.nodes.push({ pnn: p, core: undefined as unknown as RecoverdCore, dbd, votes: new MemVotes(), timers: new Map(), up: true, dbdUp: true });
      this.nodes[p]!.core = this.makeCore(this.nodes[p]!);
    }
  }

  private reachable(a: number, b: number): boolean {
    return !this.blocked.has(`${a}>${b}`);
  }

  /** Cuts every link between the groups (both directions). */
  partition(...groups: number[][]): void {
    this.blocked.clear();
    for (const g of groups) for (const h of groups) if (g !== h) for (const a of g) for (const b of h) this.blocked.add(`${a}>${b}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  private makeCore(n: SimNode): RecoverdCore {
    const t = this.time;
    const ids = new RequestIds();
    let core: RecoverdCore | undefined;
    // The answer goes to this core only, and only while it runs: a killed recoverd has no
    // requests in flight, and a restarted one never sees the answers of its predecessor.
    const deliver = (id: RequestId, r: ReplyResult): void => {
      if (!n.up || n.core !== core) return;
      this.trace.push(`${t.now} ${n.pnn} reply ${id} ${r.ok ? String(r.env.body) : r.reason}`);
      core.onReply(id, r);
    };
    const request = (to: DbdTarget, body: EnvelopeInit, timeoutMs: number): RequestId => {
      const id = ids.take();
      const pnn = to === 'own' ? n.pnn : to;
      const target = this.nodes[pnn];
      if (target === undefined || !target.dbdUp || !this.reachable(n.pnn, pnn) || !n.up) {
        t.at(timeoutMs, () => deliver(id, { ok: false, reason: `node ${pnn} unreachable` }));
        return id;
      }
      const frame = roundTrip(body);
      t.at(1, () => deliver(id, { ok: true, env: roundTrip(target.dbd.handle(frame)) }));
      return id;
    };
    const io: RecoverdIo = {
      send: (to, msg) => {
        const frame = encodeEnvelope(msg);
        if (!n.up || !this.reachable(n.pnn, to)) return;
        t.at(1 + Math.floor(this.prng.next() * 5), () => {
          const dst = this.nodes[to];
          const dec = decodeEnvelope(frame);
          if (!dst?.up || !dec.ok) return;
          this.trace.push(`${t.now} ${to} message ${String(dec.envelope.body)} from ${n.pnn}`);
          dst.core.onPeerMessage(dec.envelope);
        });
      },
      request,
      votes: n.votes,
      lock: undefined,
      metrics: nullMetrics,
      setTimer: (id: TimerId, ms: number) => {
        n.timers.get(id)?.();
        n.timers.set(id, t.at(ms, () => {
          n.timers.delete(id);
          if (!n.up || n.core !== core) return;
          this.trace.push(`${t.now} ${n.pnn} timer ${id}`);
          core.onTimer(id);
        }));
      },
      cancelTimer: (id: TimerId) => {
        n.timers.get(id)?.();
        n.timers.delete(id);
      },
      clock: { nowMs: () => t.now, nowNs: () => t.now * 1e6 },
      random: { next: () => this.prng.next() },
    };
    core = new RecoverdCore({ pnn: n.pnn, nodes: this.nodesFile, tunables: this.tunables, log: silentLogger() }, io);
    return core;
  }

  start(): void {
    for (const n of this.nodes) n.core.start();
  }

  /** Stops the recoverd; with `node`, the dbd too (the whole node is gone). */
  kill(pnn: number, o: { node?: boolean } = {}): void {
    const n = this.nodes[pnn]!;
    n.up = false;
    if (o.node) n.dbdUp = false;
    n.core.stop();
    for (const stop of n.timers.values()) stop();
    n.timers.clear();
  }

  /** A new recoverd process on the node: same vote store (the state file), fresh memory. */
  restart(pnn: number): void {
    const n = this.nodes[pnn]!;
    this.kill(pnn);
    n.up = true;
    n.core = this.makeCore(n);
    n.core.start();
  }

  run(ms: number): void {
    this.time.runUntil(this.time.now + ms, () => this.check());
  }

  private check(): void {
    for (const n of this.nodes) {
      if (!n.up || !n.core.isLeader) continue;
      const term = n.core.election.term;
      const had = this.leadersByTerm.get(term);
      if (had !== undefined && had !== n.pnn) throw new Error(`term ${term} has two leaders: ${had} and ${n.pnn}`);
      this.leadersByTerm.set(term, n.pnn);
    }
  }

  leaders(): number[] {
    return this.nodes.filter((n) => n.up && n.core.isLeader).map((n) => n.pnn);
  }
}
