// One simulated node: the real cores of its three daemons (dbd, recoverd, vacuumd), each with
// the io of the core contract wired to the simulated world — a seeded network, a virtual clock,
// timers on the world's queue, SQLite in memory. A daemon can be killed (its timers and
// everything addressed to it are gone) and restarted (a new core; what the real daemon keeps
// on disk — dbd's node state file, recoverd's vote file, vacuumd's state file — survives; dbd's
// volatile dbs start empty).
import { ctdbng, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { fnv1a32String, type Logger, type NodesFile, type TunableValues } from '@ctdbng/common';
import { DbdCore, type CoreIo } from '@ctdbng/dbd';
import { DbFile, SharedAccessDb, type DbIdentity } from '@ctdbng/store';
import type { Statement } from 'better-sqlite3';
import type { CopyView, NodeView } from './checkers.js';
import type { Network } from './network.js';
import type { Prng } from './prng.js';
import { SimTimers, type World } from './world.js';
import { MemoryNodeState } from './memory-state.js';
import { SimRecoverd, SimVacuumd } from './daemons.js';

export type DaemonName = 'dbd' | 'recoverd' | 'vacuumd';

/** A request to this node's dbd, waiting for its reply (keyed by clientId and request id). */
type ReplyTo = (env: Envelope) => void;

export interface NodeEnv {
  world: World;
  network: Network;
  nodes: NodesFile;
  tunables: TunableValues;
  /** Every node of the simulation, by pnn (a leader's controls go to other nodes' dbds). */
  peer(pnn: number): SimNode;
  /** dbd answered a vacuumd request (the model watches StoreTombstone complete, invariant 2). */
  onVacuumReply(pnn: number, request: EnvelopeInit, reply: Envelope): void;
  /** The logger of a daemon: silent, or into the trace (`--logs`). */
  logger(pnn: number, daemon: DaemonName): Logger;
}

export class SimNode implements NodeView {
  dbd: DbdCore | undefined;
  readonly recoverd: SimRecoverd;
  readonly vacuumd: SimVacuumd;
  /** Rises at every dbd start: a frame sent to an older dbd is not delivered to a newer one. */
  dbdEpoch = 0;
  readonly nodeState = new MemoryNodeState();
  /** Like run/faults.json "failStep": this recovery control is answered ERR_INTERNAL by the shell. */
  failStep: string | undefined;
  /** How many controls failStep failed. */
  failStepHits = 0;
  private readonly dbdTimers: SimTimers;
  private readonly replies = new Map<string, ReplyTo>();
  private requestIds = 0;
  private readonly shared = new Map<string, { epoch: number; db: SharedAccessDb; incarnation: number }>();

  constructor(readonly pnn: number, private readonly env: NodeEnv, private readonly rng: Prng) {
    this.dbdTimers = new SimTimers(env.world, (id) => this.dbd?.onTimer(id));
    this.recoverd = new SimRecoverd(this, env, rng.fork('recoverd'));
    this.vacuumd = new SimVacuumd(this, env);
  }

  // ---- dbd

  startDbd(): void {
    this.dbdEpoch++;
    const core = new DbdCore({ pnn: this.pnn, nodes: this.env.nodes, host: `host${this.pnn}`, tunables: { ...this.env.tunables }, log: this.env.logger(this.pnn, 'dbd') }, this.dbdIo());
    this.dbd = core;
    core.start();
    for (const p of this.env.nodes.nodes) if (!p.deleted && p.pnn !== this.pnn && this.env.peer(p.pnn).dbd !== undefined) {
      core.onLinkUp(p.pnn);
      this.env.peer(p.pnn).dbd!.onLinkUp(this.pnn);
    }
  }

  killDbd(): void {
    const core = this.dbd;
    if (core === undefined) return;
    this.dbd = undefined;
    this.dbdTimers.clear();
    this.replies.clear();
    this.shared.clear();
    core.stop();
    for (const p of this.env.nodes.nodes) if (!p.deleted && p.pnn !== this.pnn) {
      this.env.peer(p.pnn).dbd?.onLinkDown(this.pnn);
    }
  }

  private dbdIo(): CoreIo {
    const { world, network } = this.env;
    const epoch = this.dbdEpoch;
    return {
      sendToClient: (clientId, env) => {
        const to = this.replies.get(`${clientId}/${env.requestId ?? 0}`);
        if (to === undefined) return;
        this.replies.delete(`${clientId}/${env.requestId ?? 0}`);
        const [kind, from] = clientId.split(':');
        const dest = kind === 'ctl' ? Number(from) : this.pnn;
        network.send(kind === 'ctl' ? 'control' : 'local', this.pnn, dest, `reply:${clientId}`, env, to);
      },
      sendToNode: (to, env) => {
        const target = this.env.peer(to);
        const targetEpoch = target.dbdEpoch;
        network.send('node', this.pnn, to, 'dbd', env, (e) => {
          if (target.dbdEpoch !== targetEpoch || target.dbd === undefined || this.dbdEpoch !== epoch) return;
          target.dbd.onNodeMessage(e);
        });
      },
      setTimer: (id, ms) => this.dbdTimers.setTimer(id, ms),
      cancelTimer: (id) => this.dbdTimers.cancelTimer(id),
      clock: { nowMs: () => world.nowMs, nowNs: () => Math.round(world.nowMs * 1e6) },
      random: { next: () => this.rng.next() },
      wallMs: () => 1_800_000_000_000 + world.nowMs,
      isPidAlive: () => true,
      openDb: (identity: DbIdentity) => DbFile.open(':memory:', identity),
      publish: (event) => this.publishEvent(event),
      nodeState: this.nodeState,
    };
  }

  /** dbd's events socket (PUB): recoverd and vacuumd of this node hear it a moment later. */
  private publishEvent(event: ctdbng.v1.DbdEvent.$Properties): void {
    const epoch = this.dbdEpoch;
    this.env.world.at(0.01, () => {
      if (this.dbdEpoch !== epoch) return;
      this.recoverd.onDbdEvent(event);
      this.vacuumd.onDbdEvent(event);
    });
  }

  /**
   * A request to this node's dbd from `clientId`: a local client (cli:…, vac, rec) over the client
   * socket, or a leader's control (ctl:<pnn>) over the node socket. `reply` runs on the answer.
   */
  request(fromPnn: number, clientId: string, init: EnvelopeInit, reply: ReplyTo): void {
    const epoch = this.dbdEpoch;
    const kind = clientId.startsWith('ctl:') ? 'control' : 'local';
    // Every request carries its own id, as a client library's do: a late answer to a request
    // its client gave up on must not be taken for the answer to the client's next one.
    const withId = init.requestId === undefined || init.requestId === null ? { ...init, requestId: ++this.requestIds } : init;
    this.env.network.send(kind, fromPnn, this.pnn, `req:${clientId}`, withId, (env) => {
      const core = this.dbd;
      if (core === undefined || this.dbdEpoch !== epoch) return;
      this.replies.set(`${clientId}/${env.requestId}`, reply);
      if (this.failStep !== undefined && env.body === this.failStep) {
        this.failStepHits++;
        core.io.sendToClient(clientId, { requestId: env.requestId, error: { code: ctdbng.v1.ErrorCode.ERR_INTERNAL, message: `${this.failStep} failed (fault injection)` } });
        return;
      }
      if (kind === 'control') core.onNodeControl(clientId, env);
      else core.onClientRequest(clientId, env);
    });
  }

  /** A shared-access handle for a local client over the dbd's in-memory db, as the client library keeps one. */
  sharedFor(clientId: string, dbId: number, pid: number, tokens: Prng): { db: SharedAccessDb; incarnation: number } | undefined {
    const core = this.dbd;
    const db = core?.ctx.dbs.get(dbId);
    if (core === undefined || db === undefined) return undefined;
    const known = this.shared.get(clientId);
    if (known !== undefined && known.epoch === this.dbdEpoch) return known;
    const env = { nowNs: () => Math.round(this.env.world.nowMs * 1e6), newLockToken: () => 1 + Math.floor(tokens.next() * (2 ** 48 - 2)) };
    const handle = { epoch: this.dbdEpoch, db: new SharedAccessDb(db.file.sql, this.pnn, core.ctx.incarnation, pid, env), incarnation: core.ctx.incarnation };
    this.shared.set(clientId, handle);
    return handle;
  }

  // ---- NodeView

  serving(): boolean {
    return this.dbd?.ctx.serving() === true;
  }

  settledIn(): number | undefined {
    const ctx = this.dbd?.ctx;
    if (ctx === undefined || !ctx.status.joined || ctx.status.recoveryFreeze !== 0 || ctx.vnn.generation === 0) return undefined;
    return ctx.vnn.generation;
  }

  /**
   * A number that changes whenever this node's copies may have: a count kept by TEMP triggers on
   * its connection's records table and meta.valid (they see the shared-access clients' writes
   * too: those go through the same in-memory connection). No SQLite call per check.
   */
  changes(dbId = simDbId()): number {
    const db = this.dbd?.ctx.dbs.get(dbId);
    if (db === undefined) return -1;
    let cache = this.copyCache;
    if (cache === undefined || cache.file !== db.file) {
      const counter = this.copyChanges;
      counter.n++; // another connection (a restarted dbd, a db attached again): read anew
      const sql = db.file.sql;
      sql.function('sim_copies_changed', { varargs: false }, () => {
        counter.n++;
        return null;
      });
      sql.exec(`
        CREATE TEMP TRIGGER IF NOT EXISTS sim_records_insert AFTER INSERT ON main.records BEGIN SELECT sim_copies_changed(); END;
        CREATE TEMP TRIGGER IF NOT EXISTS sim_records_update AFTER UPDATE ON main.records BEGIN SELECT sim_copies_changed(); END;
        CREATE TEMP TRIGGER IF NOT EXISTS sim_records_delete AFTER DELETE ON main.records BEGIN SELECT sim_copies_changed(); END;
        CREATE TEMP TRIGGER IF NOT EXISTS sim_meta_valid AFTER UPDATE OF valid ON main.meta BEGIN SELECT sim_copies_changed(); END;`);
      cache = {
        file: db.file, changes: -1, copies: [], valid: false,
        all: sql.prepare<[], [Buffer, number, number, Buffer]>('SELECT key, rsn, dmaster, data FROM records').raw(true),
      };
      this.copyCache = cache;
    }
    return this.copyChanges.n;
  }

  /** This node's copies of the simulation's db; read again only when its connection changed something. */
  copies(dbId = simDbId()): CopyView[] {
    const changes = this.changes(dbId);
    const cache = this.copyCache;
    const db = this.dbd?.ctx.dbs.get(dbId);
    if (db === undefined || cache === undefined) return [];
    if (changes !== cache.changes) {
      cache.changes = changes;
      cache.valid = db.file.meta.get().valid === 1;
      cache.copies = cache.all.all().map(([key, rsn, dmaster, data]) => ({ key: key.toString(), rsn, dmaster, data: data.toString() }));
    }
    return cache.copies;
  }

  /** meta.valid of this node's copy of the db (stop and ban clear it, §5.4). */
  copiesValid(): boolean {
    this.copies();
    return this.copyCache?.valid ?? false;
  }

  /** Counts changes to this node's copies, over all its connections (TEMP triggers, above). */
  private readonly copyChanges = { n: 0 };

  private copyCache: {
    file: DbFile;
    /** copyChanges.n when the copies were read. */
    changes: number;
    copies: CopyView[];
    valid: boolean;
    all: Statement<[], [Buffer, number, number, Buffer]>;
  } | undefined;
}

/** The one db of a simulation. */
export const simDbName = 'sim.tdb';

const simDbIdValue = fnv1a32String(simDbName);

export function simDbId(): number {
  return simDbIdValue;
}
