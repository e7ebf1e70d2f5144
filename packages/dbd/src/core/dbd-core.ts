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
import { LinkMonitor, keepaliveTimerId } from './links.js';
import { unbanTimerId } from './controls.js';
import { VacuumRemotes } from './vacuum-support/remote.js';
import { FeedNotifier, feedGrewTimerId } from './vacuum-support/feed.js';

export const sweepTimerId = 'sweep';
export const sweepIntervalMs = 100;
/** Operations parked while the lease is lapsed; one more is refused with ERR_BUSY. */
export const parkedOpsMax = 100_000;
/** Clients remembered (pid for lock breaking); the oldest is forgotten past this. */
export const clientsMax = 65_536;

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
    this.poller = new LockPoller(this.ctx);
    this.traverses = new Traverses(this.ctx);
    this.messaging = new Messaging(this.ctx);
    this.attach = new ClusterAttach(this.ctx, () => undefined);
    this.forwarder = new ControlForwarder(this.ctx);
    this.freezer = new Freezer(this.ctx, () => this.resumeAll());
    this.pushes = new Pushes(this.ctx, this.attach);
    this.links = new LinkMonitor(this.ctx, (pnn, why) => this.linkDown(pnn, why));
    this.vacuumRemotes = new VacuumRemotes(this.ctx);
    this.feed = new FeedNotifier(this.ctx);
    this.ctx.feedGrew = (dbId) => this.feed.note(dbId);
  }

  start(): void {
    this.fence.tick();
    this.io.setTimer(sweepTimerId, sweepIntervalMs);
    this.io.setTimer(keepaliveTimerId, this.ctx.tunables.keepaliveIntervalSeconds * 1000);
  }

  stop(): void {
    this.io.cancelTimer(probeTimerId);
    this.io.cancelTimer(sweepTimerId);
    this.io.cancelTimer(keepaliveTimerId);
    this.pushes.abortAll();
    this.ctx.dbs.closeAll();
  }

  onClientRequest(clientId: string, env: Envelope): void {
    this.stats.inc('client_requests');
    handleClientRequest(this, clientId, env);
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
    if (id === probeTimerId) return this.fence.tick();
    if (id === sweepTimerId) return this.sweep();
    if (id === keepaliveTimerId) return this.links.tick();
    if (id === drainTimerId) return this.freezer.checkDrain();
    if (id === feedGrewTimerId) return this.feed.flush();
    if (id === unbanTimerId) {
      this.ctx.status.bannedUntilNs = 0;
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
      default:
        this.ctx.log.warn({ timer: id }, 'unknown timer');
    }
  }

  /** Installs a vnnmap and generation; every db records the generation it is valid for (§5.4). */
  setVnnMap(generation: number, pnns: number[]): void {
    const { ctx } = this;
    if (ctx.vnn.generation === generation && ctx.vnn.pnns.join(',') === pnns.join(',')) return;
    ctx.vnn = { generation, pnns };
    for (const db of ctx.dbs.all()) db.file.setMeta({ generation, valid: 1 });
    ctx.log.info({ generation, vnnmap: pnns }, 'vnnmap set');
    this.fence.reset();
    this.fence.tick();
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
   * Runs op (a lock holder's store) now if this node holds the lease (§2.2), else when it is
   * renewed. Not held back by a freeze: the freeze waits for holders to drain (§5.3.1), so a
   * holder must be able to store and let go — parked until the thaw, the store could never
   * drain, the freeze broke the lock at RecoveryDrainTimeout and the write was lost with
   * ERR_LOCK_LOST. A shared-access store checks the lease and the lock row only, too.
   * (Found by packages/dbd/test/recovery-support.test.ts.)
   * Frozen for a recovery, the lease lapses (no probe of the old generation is acked) while the
   * drain may still wait for a slow holder: such a holder may store anyway. That is safe because
   * the leader pulls this node's records only after the freeze answered, i.e. after the drain;
   * a node frozen as inactive (freeze generation 0) gets no such exception.
   */
  whenLeased(op: () => void, refuse: (body: EnvelopeInit) => void): void {
    const draining = this.ctx.status.frozen && this.ctx.status.freezeGeneration !== 0;
    if (this.ctx.leaseValid() || draining) return op();
    if (this.parkedOps.length >= parkedOpsMax) return refuse({ error: { code: ErrorCode.ERR_BUSY, message: 'too many operations wait for the node to become active' } });
    this.parkedOps.push(op);
  }

  pumpKey(db: DbState, ks: KeyState): void {
    pump(this.ctx, this, db, ks);
  }

  /** After a thaw: every key with waiters runs again (calls restart in the new generation). */
  private resumeAll(): void {
    // Probe at once: the new generation's lease is what lets this node serve again.
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
