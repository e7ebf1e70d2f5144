// A simulated cluster (issue 11, STYLE §3): N nodes of real cores on one seeded world, clients
// writing and deleting through dbd and through shared access, a model of what they were told,
// and the invariant checkers after every step.
import { defaultTunables, parseNodesFile, silentLogger, type Logger, type NodesFile, type TunableValues } from '@ctdbng/common';
import { pino } from 'pino';
import { ctdbng, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { dmasterNewest, generationQuorum, leadersPerTerm, resurrections, twoWriters } from './checkers.js';
import { SimClient } from './clients.js';
import { Model } from './model.js';
import { Network } from './network.js';
import { SimNode, simDbId, simDbName, type DaemonName } from './node.js';
import { Prng } from './prng.js';
import { World } from './world.js';

/**
 * Fast, bounded recoveries on virtual time, with the defaults' proportions (the relations dbd
 * checks hold: lease < keepalive × limit, two broadcasts within LeaderTimeout). Every idle
 * message costs the simulation an event, so the intervals are as long as these allow.
 */
export const simTunables: Partial<TunableValues> = {
  sharedAccessLeaseMs: 400,
  keepaliveIntervalSeconds: 1,
  keepaliveLimitCount: 3,
  leaderTimeoutMs: 1000,
  leaderBroadcastIntervalMs: 250,
  recoverIntervalMs: 500,
  rerecoveryTimeoutMs: 100,
  recoveryDrainTimeoutMs: 300,
  recoveryTimeoutMs: 3000,
  controlTimeoutMs: 2000,
  vacuumIntervalSeconds: 1,
  vacuumRetryMinMs: 100,
  vacuumRetryMaxMs: 1000,
  lockLeaseSeconds: 10,
};

export interface ClusterOptions {
  seed: number;
  nodes: number;
  clientsPerNode: number;
  keys: number;
  /** Trace every change of this key's copies (`npm run sim -- --seed S --watch k1`). */
  watchKey?: string;
  /** The daemons' logs (debug and up) into the trace (`npm run sim -- --seed S --logs`). */
  logs?: boolean;
}

export class SimCluster {
  readonly world = new World();
  readonly rng: Prng;
  readonly network: Network;
  readonly nodesFile: NodesFile;
  readonly tunables: TunableValues;
  readonly nodes: SimNode[] = [];
  readonly clients: SimClient[] = [];
  readonly model = new Model();
  readonly violations: string[] = [];
  readonly trace: string[] = [];
  /** term → the node that led it (invariant 4). */
  private readonly leaders = new Map<number, number>();
  private lastGeneration = 0;
  /** key → the (pnn/incarnation) that were its dmaster since the model's last write of it. */
  private readonly holders = new Map<string, Set<string>>();
  private writesSeen = 0;

  constructor(readonly o: ClusterOptions) {
    this.rng = new Prng(o.seed);
    this.network = new Network(this.world, this.rng.fork('network'));
    this.nodesFile = parseNodesFile(Array.from({ length: o.nodes }, (_, i) => `10.0.0.${i + 1}`).join('\n'));
    this.tunables = { ...defaultTunables(), ...simTunables };
    const env = {
      world: this.world, network: this.network, nodes: this.nodesFile, tunables: this.tunables,
      peer: (pnn: number) => this.nodes[pnn]!,
      onVacuumReply: (pnn: number, req: EnvelopeInit, reply: Envelope) => this.watchVacuum(pnn, req, reply),
      logger: (pnn: number, daemon: DaemonName) => (o.logs === true ? this.traceLogger(`${daemon}${pnn}`) : silentLogger()),
    };
    for (let p = 0; p < o.nodes; p++) this.nodes.push(new SimNode(p, env, this.rng.fork(`node${p}`)));
    if (o.watchKey !== undefined) {
      const watched = Buffer.from(o.watchKey);
      this.network.tap = (kind, from, to, e) => {
        const body = e.body === undefined ? undefined : (e as unknown as Record<string, { key?: Uint8Array; rsn?: unknown; dmaster?: unknown; origin?: unknown; hopcount?: unknown; header?: unknown } | undefined>)[e.body];
        if (body?.key === undefined || !watched.equals(Buffer.from(body.key))) return;
        const { key: _k, data: _d, ...rest } = body as Record<string, unknown>;
        this.log(`  ${kind} ${from}>${to} ${e.body} ${JSON.stringify(rest, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? `${v.length}B` : v))}`);
      };
    }
    const keys = Array.from({ length: o.keys }, (_, i) => `k${i}`);
    for (const n of this.nodes) for (let c = 0; c < o.clientsPerNode; c++) {
      const id = `cli:${n.pnn}.${c}`;
      const rng = this.rng.fork(id);
      const port = {
        pnn: n.pnn, dbId: simDbId(),
        nowMs: () => this.world.nowMs,
        request: (clientId: string, init: EnvelopeInit, reply: (env: Envelope) => void) => n.request(n.pnn, clientId, init, reply),
        shared: (clientId: string) => n.sharedFor(clientId, simDbId(), 10_000 + n.pnn * 100 + c, rng),
        incarnation: () => n.dbd?.ctx.incarnation ?? 0,
        after: (ms: number, run: () => void) => void this.world.at(ms, run),
        log: (line: string) => this.log(line),
      };
      this.clients.push(new SimClient(id, port, c % 2 === 1, rng, this.model, keys));
    }
  }

  /** A pino logger whose lines go into the trace, without the wall-clock fields. */
  private traceLogger(name: string): Logger {
    return pino({ level: 'debug', base: undefined, timestamp: false }, {
      write: (line: string) => {
        const { level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
        this.log(`  ${name} ${pino.levels.labels[Number(level)] ?? level}: ${String(msg)} ${Object.keys(rest).length > 0 ? JSON.stringify(rest) : ''}`);
      },
    });
  }

  log(line: string): void {
    this.trace.push(`${this.world.nowMs.toFixed(3)} ${line}`);
  }

  /** Every daemon of every node starts; the db is attached once the dbds are up. */
  start(): void {
    for (const n of this.nodes) n.startDbd();
    for (const n of this.nodes) n.recoverd.start();
    for (const n of this.nodes) n.vacuumd.start();
    this.nodes[0]!.request(0, 'cli:setup', { attach: { name: simDbName, persistent: false } }, () => undefined);
    this.log(`start ${this.o.nodes} nodes, ${this.clients.length} clients`);
  }

  kill(pnn: number, daemon: DaemonName): void {
    const n = this.nodes[pnn]!;
    if (daemon === 'dbd') n.killDbd();
    else n[daemon].kill();
    this.log(`kill ${daemon} of node ${pnn}`);
  }

  restart(pnn: number, daemon: DaemonName): void {
    const n = this.nodes[pnn]!;
    if (daemon === 'dbd') {
      if (n.dbd !== undefined) return;
      n.startDbd();
      // The db is attached again from the peers' NodeHello or the next recovery, as a real dbd does.
    } else if (!n[daemon].alive) n[daemon].start();
    else return;
    this.log(`restart ${daemon} of node ${pnn}`);
  }

  /** An administrator's flag change on node pnn (term 0), through its own dbd. */
  setFlags(pnn: number, flags: ctdbng.v1.SetNodeFlags.$Properties): void {
    this.nodes[pnn]!.request(pnn, 'cli:admin', { setNodeFlags: flags }, () => undefined);
    this.log(`flags ${JSON.stringify(flags)} on node ${pnn}`);
  }

  /** The schedule is over: every SQLite connection closed now, not whenever GC gets to it. */
  close(): void {
    for (const n of this.nodes) {
      n.recoverd.kill();
      n.vacuumd.kill();
      n.killDbd();
      n.vacuumd.state.close();
    }
  }

  /** Runs the world for `ms`, checking the invariants after every event. */
  run(ms: number): void {
    this.world.runUntil(this.world.nowMs + ms, () => this.check(), () => this.violations.length > 0);
  }

  /** Runs until `done()` or `boundMs` passed; returns whether done. */
  runUntil(done: () => boolean, boundMs: number, stepMs = 50): boolean {
    const end = this.world.nowMs + boundMs;
    while (this.world.nowMs < end) {
      if (done()) return true;
      this.run(stepMs);
      if (this.violations.length > 0) return false;
    }
    return done();
  }

  /** What the checkers read, as numbers: equal to the last step's, the checks are skipped. */
  private readonly lastChecked: number[] = [];

  private unchanged(): boolean {
    const sig = this.lastChecked;
    let i = 0;
    let same = sig.length > 0;
    const put = this.putSig;
    same = put(sig, i++, this.model.deadVersion) && same;
    same = put(sig, i++, this.model.writes.length) && same;
    for (const n of this.nodes) {
      const ctx = n.dbd?.ctx;
      same = put(sig, i++, n.dbdEpoch) && same;
      same = put(sig, i++, n.changes()) && same;
      same = put(sig, i++, ctx?.vnn.generation ?? -1) && same;
      same = put(sig, i++, n.serving() ? 1 : 0) && same;
      same = put(sig, i++, n.settledIn() ?? -1) && same;
      same = put(sig, i++, n.recoverd.isLeader() ? n.recoverd.term() : -1) && same;
    }
    return same;
  }

  /** Sets sig[i] = v; whether it was already v. */
  private readonly putSig = (sig: number[], i: number, v: number): boolean => {
    if (sig[i] === v) return true;
    sig[i] = v;
    return false;
  };

  check(): void {
    if (this.unchanged()) return;
    this.noteHolders();
    if (this.o.watchKey !== undefined) this.watch(this.o.watchKey);
    const v = [
      ...twoWriters(this.nodes),
      ...resurrections(this.nodes, this.model),
      ...dmasterNewest(this.nodes),
      ...leadersPerTerm(this.leaders, this.nodes.flatMap((n) => (n.recoverd.isLeader() ? [{ pnn: n.pnn, term: n.recoverd.term() }] : []))),
    ];
    this.noteGenerations();
    for (const x of v) this.violations.push(`${this.world.nowMs.toFixed(3)} ${x}`);
  }

  /**
   * Who held each key since its last write (model, §5.4): the writer, then every node seen as its
   * dmaster. A write is forgiven for being lost only when one of those was left out later.
   */
  private noteHolders(): void {
    for (; this.writesSeen < this.model.writes.length; this.writesSeen++) {
      const w = this.model.writes[this.writesSeen]!;
      if (w.outcome !== 'failed') this.holders.set(w.key, new Set([`${w.pnn}/${w.incarnation}`]));
      // Acknowledged (in the event just handled) by a node still serving a generation older than
      // one installed elsewhere: the tail of its lease after it was left out (§2.2, §5.4).
      const writer = this.nodes[w.pnn]?.dbd?.ctx;
      if (w.outcome === 'acked' && writer !== undefined && writer.incarnation === w.incarnation && writer.vnn.generation < this.lastGeneration) this.model.ackedInSupersededGeneration(w);
    }
    for (const n of this.nodes) {
      const inc = n.dbd?.ctx.incarnation;
      if (inc === undefined) continue;
      const holder = `${n.pnn}/${inc}`;
      // Stop and ban clear meta.valid (§5.4): what only this node held may be lost from now.
      if (!n.copiesValid()) {
        for (const [key, held] of this.holders) if (held.delete(holder)) this.model.leftOut(key, this.world.nowMs);
        continue;
      }
      for (const c of n.copies()) if (c.dmaster === n.pnn) this.holders.get(c.key)?.add(holder);
    }
  }

  private watched = '';

  private watch(key: string): void {
    const line = this.nodes.map((n) => {
      const c = n.copies().find((x) => x.key === key);
      const ctx = n.dbd?.ctx;
      const st = ctx === undefined ? 'down' : `g${ctx.vnn.generation % 2 ** 32}${n.serving() ? 's' : ''}${ctx.status.recoveryFreeze !== 0 ? 'f' : ''}`;
      const db = ctx?.dbs.get(simDbId());
      const lock = db?.file.sql.prepare<[Buffer], { holder: string }>('SELECT holder FROM locks WHERE key = ?').get(Buffer.from(key));
      const ks = db?.keys.get(Buffer.from(key).toString('latin1'));
      const flow = ks === undefined ? '' : `${ks.waiters.length > 0 ? ` W=${ks.waiters.map((w) => (w.kind === 'call' ? `call:${w.call.origin}` : w.clientId)).join(',')}` : ''}${ks.inflight !== undefined ? ` I>${ks.inflight.to}` : ''}${ks.marked ? ' M' : ''}`;
      return `${n.pnn}[${st}]:${c === undefined ? '-' : `${c.rsn}/${c.dmaster}/${c.data === '' ? '∅' : c.data}`}${lock === undefined ? '' : ` L=${lock.holder}`}${flow}`;
    }).join(' ');
    if (line === this.watched) return;
    this.watched = line;
    this.log(`watch ${key}: ${line}`);
  }

  /** A newly installed generation whose members leave out a holder of a key (model: §5.4). */
  private noteGenerations(): void {
    for (const n of this.nodes) {
      const ctx = n.dbd?.ctx;
      if (ctx === undefined || ctx.vnn.generation <= this.lastGeneration || ctx.status.participants.size === 0) continue;
      this.lastGeneration = ctx.vnn.generation;
      const members = new Set(ctx.vnn.pnns.map((p) => `${p}/${ctx.status.participants.get(p) ?? -1}`));
      for (const [key, held] of this.holders) if ([...held].some((h) => !members.has(h))) this.model.leftOut(key, this.world.nowMs);
      this.log(`generation ${ctx.vnn.generation} installed: vnnmap [${ctx.vnn.pnns.join(',')}]`);
      for (const x of generationQuorum(ctx.vnn.generation, [...ctx.status.participants.keys()], this.nodes.length)) this.violations.push(`${this.world.nowMs.toFixed(3)} ${x}`);
    }
  }

  /** StoreTombstone answered STORED/ABSENT by every member: that deletion's vacuuming completed (invariant 2). */
  private watchVacuum(pnn: number, req: EnvelopeInit, reply: Envelope): void {
    const r = req.vacuumRemote;
    const nodes = reply.vacuumRemoteReply?.nodes;
    if (r === undefined || r === null || nodes === undefined || nodes === null || r.phase !== ctdbng.v1.VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE) return;
    const Result = ctdbng.v1.VacuumResult;
    (r.keys ?? []).forEach((k, i) => {
      const all = nodes.every((n) => n.refusedCode === 0 && [Result.VACUUM_RESULT_STORED, Result.VACUUM_RESULT_ABSENT].includes(n.results?.[i] ?? 0));
      if (!all) return;
      const key = Buffer.from(k.key ?? []).toString();
      this.model.vacuumCompleted({ key, rsn: Number(k.rsn), atMs: this.world.nowMs });
      this.log(`vacuumed ${key}@${Number(k.rsn)} on node ${pnn}`);
    });
  }
}
