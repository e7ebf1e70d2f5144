// The recovery and vacuuming daemons of a simulated node: their real cores, with the core
// contract's io wired to the world — peer messages and a leader's controls over the simulated
// network, requests to the own dbd over its client socket, timers on the world's queue. Killing
// one drops its timers and every answer addressed to it; a restart builds a new core over what
// the real daemon keeps on disk (recoverd's vote file, vacuumd's state file).
import type { Envelope, EnvelopeInit, ctdbng } from '@ctdbng/protocol';
import { type ReplyResult, type RequestId, type TunableValues } from '@ctdbng/common';
import { nullMetrics, RecoverdCore, type DbdTarget, type TimerId } from '@ctdbng/recoverd';
import { StateFile, VacuumCore, type VacuumSettings } from '@ctdbng/vacuumd';
import { MemoryVotes } from './memory-state.js';
import type { NodeEnv, SimNode } from './node.js';
import type { Prng } from './prng.js';
import { SimTimers, type SimEvent } from './world.js';

/** vacuumd's settings from the tunables, as its shell makes them. */
function vacuumSettings(pnn: number, t: TunableValues): VacuumSettings {
  return {
    pnn,
    batchSizeCount: t.vacuumBatchSizeCount,
    fullScanIntervalMs: t.vacuumFullScanIntervalSeconds * 1000,
    intervalMs: t.vacuumIntervalSeconds * 1000,
    requestTimeoutMs: t.controlTimeoutMs,
    retryDelayMsMin: t.vacuumRetryMinMs,
    retryDelayMsMax: Math.max(t.vacuumRetryMinMs, t.vacuumRetryMaxMs),
  };
}

/** One outstanding request of a daemon: answered once, by a reply or by its timeout. */
class Outstanding {
  private next = 1;
  private readonly waiting = new Map<RequestId, SimEvent | undefined>();

  constructor(private readonly env: NodeEnv, private readonly deliver: (id: RequestId, r: ReplyResult) => void) {}

  /** Sends through `send` (which calls back with the reply) and times out after timeoutMs. */
  request(timeoutMs: number, send: (reply: (e: Envelope) => void) => void): RequestId {
    const id = this.next++;
    this.waiting.set(id, undefined);
    send((e) => this.settle(id, { ok: true, env: e }));
    if (this.waiting.has(id)) this.waiting.set(id, this.env.world.at(timeoutMs, () => this.settle(id, { ok: false, reason: `no reply within ${timeoutMs} ms` })));
    return id;
  }

  private settle(id: RequestId, r: ReplyResult): void {
    if (!this.waiting.has(id)) return;
    const timeout = this.waiting.get(id);
    if (timeout !== undefined) timeout.live = false;
    this.waiting.delete(id);
    this.deliver(id, r);
  }

  /** The daemon died: nothing it asked for is answered any more. */
  clear(): void {
    for (const ev of this.waiting.values()) if (ev !== undefined) ev.live = false;
    this.waiting.clear();
  }
}

export class SimRecoverd {
  core: RecoverdCore | undefined;
  readonly votes = new MemoryVotes();
  private epoch = 0;
  private readonly timers: SimTimers;
  private readonly outstanding: Outstanding;

  constructor(private readonly node: SimNode, private readonly env: NodeEnv, private readonly rng: Prng) {
    this.timers = new SimTimers(env.world, (id) => this.core?.onTimer(id as TimerId));
    this.outstanding = new Outstanding(env, (id, r) => this.core?.onReply(id, r));
  }

  get alive(): boolean {
    return this.core !== undefined;
  }

  isLeader(): boolean {
    return this.core?.isLeader === true;
  }

  term(): number {
    return this.core?.election.term ?? 0;
  }

  start(): void {
    if (this.core !== undefined) return;
    this.epoch++;
    const epoch = this.epoch;
    const { world, network } = this.env;
    const pnn = this.node.pnn;
    const core = new RecoverdCore({ pnn, nodes: this.env.nodes, tunables: this.env.tunables, log: this.env.logger(pnn, 'recoverd') }, {
      clock: { nowMs: () => world.nowMs, nowNs: () => Math.round(world.nowMs * 1e6) },
      random: { next: () => this.rng.next() },
      setTimer: (id, ms) => this.timers.setTimer(id, ms),
      cancelTimer: (id) => this.timers.cancelTimer(id),
      send: (to, msg) => {
        const peer = this.env.peer(to).recoverd;
        network.send('peer', pnn, to, 'recoverd', msg, (e) => peer.onPeerMessage(e));
      },
      request: (to: DbdTarget, body: EnvelopeInit, timeoutMs: number) =>
        this.outstanding.request(timeoutMs, (reply) => {
          const onReply = (e: Envelope): void => {
            if (this.epoch === epoch) reply(e);
          };
          if (to === 'own') this.node.request(pnn, 'rec', body, onReply);
          else this.env.peer(to).request(pnn, `ctl:${pnn}`, body, onReply);
        }),
      votes: this.votes,
      lock: undefined,
      metrics: nullMetrics,
    });
    this.core = core;
    core.start();
  }

  kill(): void {
    const core = this.core;
    if (core === undefined) return;
    this.core = undefined;
    this.timers.clear();
    this.outstanding.clear();
    core.stop();
  }

  onPeerMessage(env: Envelope): void {
    this.core?.onPeerMessage(env);
  }

  onDbdEvent(ev: ctdbng.v1.DbdEvent.$Properties): void {
    this.core?.onDbdEvent({ recoveryWanted: ev.recoveryWanted ?? undefined, link: ev.link ?? undefined, freeze: ev.freeze ?? undefined });
  }
}

export class SimVacuumd {
  core: VacuumCore | undefined;
  /** vacuumd's own SQLite file: it survives the daemon's restarts. */
  readonly state = new StateFile(':memory:');
  private epoch = 0;
  private readonly timers: SimTimers;
  private readonly outstanding: Outstanding;

  constructor(private readonly node: SimNode, private readonly env: NodeEnv) {
    this.timers = new SimTimers(env.world, (id) => this.core?.onTimer(id as never));
    this.outstanding = new Outstanding(env, (id, r) => this.core?.onReply(id, r));
  }

  get alive(): boolean {
    return this.core !== undefined;
  }

  /** Deletions vacuumd still has to complete on this node. */
  pending(): number {
    return this.state.totalPending();
  }

  start(): void {
    if (this.core !== undefined) return;
    this.epoch++;
    const epoch = this.epoch;
    const { world } = this.env;
    const pnn = this.node.pnn;
    const core = new VacuumCore({
      io: {
        clock: { nowMs: () => world.nowMs, nowNs: () => Math.round(world.nowMs * 1e6) },
        setTimer: (id, ms) => this.timers.setTimer(id, ms),
        cancelTimer: (id) => this.timers.cancelTimer(id),
        request: (body, timeoutMs: number) =>
          this.outstanding.request(timeoutMs, (reply) => {
            this.node.request(pnn, 'vac', body, (e) => {
              if (this.epoch !== epoch) return;
              this.env.onVacuumReply(pnn, body, e);
              reply(e);
            });
          }),
      },
      state: this.state,
      log: this.env.logger(this.node.pnn, 'vacuumd'),
      settings: () => vacuumSettings(pnn, this.env.tunables),
    });
    this.core = core;
    core.start();
  }

  kill(): void {
    const core = this.core;
    if (core === undefined) return;
    this.core = undefined;
    this.timers.clear();
    this.outstanding.clear();
    core.stop();
  }

  onDbdEvent(ev: ctdbng.v1.DbdEvent.$Properties): void {
    const core = this.core;
    if (core === undefined) return;
    if (ev.freeze !== null && ev.freeze !== undefined) core.onFreezeEvent(ev.freeze.frozen === true, Number(ev.freeze.generation ?? 0));
    if (ev.feedGrew !== null && ev.feedGrew !== undefined) core.wake(ev.feedGrew.dbId ?? 0);
  }
}
