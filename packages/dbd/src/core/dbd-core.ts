// The dbd core (DESIGN §12): events in (client requests, node messages, link changes, timers),
// store calls, messages and timer requests out. No sockets, no clocks: see io.ts.
import { ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { CoreConfig, CoreIo } from './io.js';
import { Ctx } from './ctx.js';
import { DbdStats } from './stats.js';
import { Databases, type DbState } from './databases.js';
import { LeaseFence, probeTimerId } from './locks/lease-fence.js';
import { LockPoller } from './locks/lock-poll.js';
import { sweepLocks } from './locks/record-lock.js';
import { pump, type FlowHooks } from './record-flow/serve.js';
import type { KeyState } from './record-flow/key-state.js';
import { Traverses } from './traverse.js';
import { Messaging } from './messaging.js';
import { ClusterAttach } from './attach.js';
import { ControlForwarder } from './forward.js';
import { handleClientRequest } from './client-requests.js';
import { handleNodeMessage } from './node-messages.js';
import { Freezer, drainTimerId } from './recovery-support/freeze.js';
import { Pushes } from './recovery-support/pull-push.js';
import { LinkMonitor } from './links.js';
import { unbanTimerId } from './controls.js';
import { VacuumRemotes } from './vacuum-support/remote.js';
import { FeedNotifier, feedGrewTimerId } from './vacuum-support/feed.js';
import { sliceTimerPrefix } from './vacuum-support/slices.js';

export const sweepTimerId = 'sweep';
export const sweepIntervalMs = 500;
/** Operations parked while the lease is lapsed; one more is refused with ERR_BUSY. */
export const parkedOpsMax = 100_000;
/** Clients remembered (pid for lock breaking); the oldest is forgotten past this. */
export const clientsMax = 65_536;

/** What the leader's recoverd sends on the node socket (§5.3; setNodeFlags only with a term: a ban). */
const nodeSocketControls = new Set(['freeze', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw', 'getNodeState', 'getDbMap', 'setNodeFlags']);

export interface ClientInfo {
  pid: number;
}

export class DbdCore implements FlowHooks {
  readonly ctx: Ctx;
  readonly stats = new DbdStats();
  readonly fence: LeaseFence;
  readonly poller: LockPoller;
  readonly traverses: Traverses;
  readonly messaging: Messaging;
  readonly attach: ClusterAttach;
  readonly forwarder: ControlForwarder;
  readonly freezer: Freezer;
  readonly pushes: Pushes;
  readonly links: LinkMonitor;
  readonly vacuumRemotes: VacuumRemotes;
  readonly feed: FeedNotifier;
  readonly clients = new Map<string, ClientInfo>();
  private readonly parkedKeys = new Set<{ db: DbState; ks: KeyState }>();
  private readonly parkedKeySet = new WeakSet<KeyState>();
  private parkedOps: (() => void)[] = [];

  constructor(readonly cfg: CoreConfig, readonly io: CoreIo) {
    const dbs = new Databases((dbId, name, persistent) => io.openDb({ dbId, name, persistent, pnn: cfg.pnn }));
    this.ctx = new Ctx(cfg, io, this.stats, dbs);
    this.fence = new LeaseFence(this.ctx, (wasValid) => {
      if (!wasValid) this.resumeParked();
    });
    this.freezer = new Freezer(this.ctx, {
      dropLease: () => this.fence.drop(),
      outOfService: () => this.resumeParked(),
      thawed: () => this.resumeAll(),
    });
    this.poller = new LockPoller(this.ctx);
    this.traverses = new Traverses(this.ctx);
    this.messaging = new Messaging(this.ctx);
    this.attach = new ClusterAttach(this.ctx, () => undefined);
    this.forwarder = new ControlForwarder(this.ctx);
    this.pushes = new Pushes(this.ctx, this.attach);
    this.links = new LinkMonitor(this.ctx, (pnn, why) => this.linkDown(pnn, why));
    this.vacuumRemotes = new VacuumRemotes(this.ctx);
    this.feed = new FeedNotifier(this.ctx);
    this.ctx.feedGrew = (dbId) => this.feed.note(dbId);
  }

  start(): void {
    // A dbd starts frozen, its lease at 0, a stranger until a recovery takes it in (§5.4).
    this.fence.drop();
    this.freezer.syncFrozenMeta();
    this.fence.tick();
    this.io.setTimer(sweepTimerId, sweepIntervalMs);
  }

  stop(): void {
    this.io.cancelTimer(probeTimerId);
    this.io.cancelTimer(sweepTimerId);
    this.pushes.abortAll();
    this.ctx.dbs.closeAll();
  }

  onClientRequest(clientId: string, env: Envelope): void {
    this.stats.inc('client_requests');
    handleClientRequest(this, clientId, env);
  }

  /**
   * A frame without a node header on the node socket: only the leader's recoverd sends those
   * (DESIGN §7), and only the controls it drives a recovery with are taken — each carries the
   * leader's term, or only reads. Record operations, tunables, attach, anything else: refused.
   */
  onNodeControl(peer: string, env: Envelope): void {
    const body = env.body ?? '';
    const takeable = nodeSocketControls.has(body) && (body !== 'setNodeFlags' || Number(env.setNodeFlags?.term ?? 0) > 0);
    if (!takeable) {
      this.stats.inc('bad_requests');
      this.io.sendToClient(peer, { requestId: env.requestId, error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `'${body}' is not taken on the node socket (a leader's recovery control with its term, or a read)` } });
      return;
    }
    this.onClientRequest(peer, env);
  }

  /** The shell could not deliver to a client: it is gone. */
  onClientGone(clientId: string): void {
    this.clients.delete(clientId);
    this.messaging.forgetClient(clientId);
  }

  rememberClient(clientId: string, info: ClientInfo): void {
    this.clients.delete(clientId);
    this.clients.set(clientId, info);
    if (this.clients.size > clientsMax) this.clients.delete(this.clients.keys().next().value!);
  }

  onNodeMessage(env: Envelope): void {
    this.stats.inc('node_messages_received');
    handleNodeMessage(this, env);
  }

  onLinkUp(pnn: number): void {
    if (this.ctx.linksUp.has(pnn)) return;
    this.ctx.linksUp.add(pnn);
    this.ctx.log.info({ peer: pnn }, 'node link up');
    this.io.publish({ link: { pnn, state: 'up' } });
    const dbs = this.ctx.dbs.all().map((db) => ({ dbId: db.info.dbId, name: db.info.name, persistent: db.info.persistent }));
    this.ctx.sendNode(pnn, { nodeHello: { dbs } });
  }

  onLinkDown(pnn: number): void {
    this.linkDown(pnn, 'disconnected');
  }

  private linkDown(pnn: number, why: string): void {
    if (!this.ctx.linksUp.delete(pnn)) return;
    this.ctx.log.warn({ peer: pnn, why }, 'node link down');
    this.io.publish({ link: { pnn, state: 'down' } });
    if (this.ctx.isMember(pnn)) this.ctx.wantRecovery(`link to node ${pnn} down: ${why}`);
  }

  onTimer(id: string): void {
    if (id === probeTimerId) {
      // One timer for every peer and purpose: probes (with the acks owed), then keepalives where
      // nothing was sent, and the links' silence.
      this.fence.tick();
      return this.links.tick();
    }
    if (id === sweepTimerId) return this.sweep();
    if (id === drainTimerId) return this.freezer.checkDrain();
    if (id === feedGrewTimerId) return this.feed.flush();
    if (id === unbanTimerId) {
      this.ctx.status.bannedUntilNs = 0;
      this.freezer.syncFrozenMeta();
      this.ctx.log.info('ban over');
      return this.ctx.wantRecovery('ban over');
    }
    const [kind, num] = id.split(':') as [string, string | undefined];
    const n = Number(num);
    switch (kind) {
      case 'poll': {
        const entry = this.poller.take(id);
        if (entry !== undefined) pump(this.ctx, this, entry.db, entry.ks);
        return;
      }
      case 'attach':
        return this.attach.onTimeout(n);
      case 'forward':
        return this.forwarder.onTimeout(n);
      case 'traverse':
        return this.traverses.onTimeout(n);
      case 'vacuum':
        return this.vacuumRemotes.onTimeout(n);
      case sliceTimerPrefix:
        return this.ctx.slices.onTimer(n);
      default:
        this.ctx.log.warn({ timer: id }, 'unknown timer');
    }
  }

  /** A generation was installed (§5.3.3): probes of the old one can renew nothing. */
  installed(): void {
    this.fence.drop();
  }

  /** Stop or ban (§5.4): out of service at once, copies invalid, a stranger until a recovery. */
  leaveService(why: 'stopped' | 'banned'): void {
    const { ctx } = this;
    ctx.status.joined = false;
    this.pushes.abortAll();
    for (const db of ctx.dbs.all()) if (!db.info.persistent) db.file.setMeta({ valid: 0 });
    this.freezer.takeOutOfService(0);
    ctx.wantRecovery(`node ${why}`);
  }

  /**
   * Inactive (§5.1): no majority visible. Out of service at once, but the copies stay valid —
   * if the majority moved on, G_max leaves them out; if nobody had a quorum they are the
   * newest data there is (§5.4). Active again, it waits for a recovery to take it in.
   */
  setInactive(inactive: boolean): void {
    const { ctx } = this;
    const st = ctx.status;
    if (inactive && !st.inactive) {
      st.inactive = true;
      st.joined = false;
      this.pushes.abortAll();
      this.freezer.takeOutOfService(0);
      ctx.log.warn('inactive: no majority visible; frozen until a recovery takes this node in');
    } else if (!inactive && st.inactive) {
      st.inactive = false;
      this.freezer.syncFrozenMeta();
      ctx.log.info('majority visible again; waiting for a recovery');
      ctx.wantRecovery('node active again');
    }
  }

  // FlowHooks
  parkForLease(db: DbState, ks: KeyState): void {
    if (this.parkedKeySet.has(ks)) return;
    this.parkedKeySet.add(ks);
    this.parkedKeys.add({ db, ks });
  }

  pollLock(db: DbState, ks: KeyState): void {
    this.poller.arm(db, ks);
  }

  /**
   * Whether a lock holder's store may write now (§2.2): never without a valid lease, from
   * anyone. A stopped, banned or inactive node refuses it; a recovery freeze voids every record
   * lock (the drain would break it, and the lease is gone), so the store fails with
   * ERR_LOCK_LOST at once and the holder's lock is let go; with the lease merely lapsed (a
   * probe's acks late) the store waits for the renewal.
   */
  storeGate(): 'go' | 'wait' | { lockVoid: true; body: EnvelopeInit } | { body: EnvelopeInit } {
    const { ctx } = this;
    const refused = ctx.status.refusal(ctx.io.clock.nowNs());
    if (refused !== undefined) return { body: refused };
    if (ctx.status.recoveryFreeze !== 0 || !ctx.status.joined) {
      return { lockVoid: true, body: { error: { code: ErrorCode.ERR_LOCK_LOST, message: 'a recovery froze this node: its record locks are void' } } };
    }
    return ctx.leaseValid() ? 'go' : 'wait';
  }

  /** Runs op again when the lease is renewed or the node leaves service (op re-checks). */
  parkUntilLeased(op: () => void, refuse: (body: EnvelopeInit) => void): void {
    if (this.parkedOps.length >= parkedOpsMax) return refuse({ error: { code: ErrorCode.ERR_BUSY, message: 'too many operations wait for the node to become active' } });
    this.parkedOps.push(op);
  }

  pumpKey(db: DbState, ks: KeyState): void {
    pump(this.ctx, this, db, ks);
  }

  /** After a thaw: every key with waiters runs again (calls restart in the new generation). */
  private resumeAll(): void {
    // Probe at once: the new generation's lease is what lets this node serve again.
    this.fence.drop();
    this.fence.tick();
    this.resumeParked();
    for (const db of this.ctx.dbs.all()) for (const ks of [...db.keys.values()]) if (ks.waiters.length > 0) pump(this.ctx, this, db, ks);
  }

  private resumeParked(): void {
    const keys = [...this.parkedKeys];
    this.parkedKeys.clear();
    const ops = this.parkedOps;
    this.parkedOps = [];
    for (const { db, ks } of keys) {
      this.parkedKeySet.delete(ks);
      pump(this.ctx, this, db, ks);
    }
    for (const op of ops) op();
  }

  private sweep(): void {
    this.io.setTimer(sweepTimerId, sweepIntervalMs);
    for (const db of sweepLocks(this.ctx)) for (const ks of [...db.keys.values()]) pump(this.ctx, this, db, ks);
    this.traverses.sweep();
  }
}
