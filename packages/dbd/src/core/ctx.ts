// The state every part of the dbd core shares: who we are, the vnnmap, the dbs, the fence.
import type { EnvelopeInit } from '@ctdbng/protocol';
import { protocolVersion } from '@ctdbng/protocol';
import type { Logger, TunableValues } from '@ctdbng/common';
import type { CoreConfig, CoreIo } from './io.js';
import type { DbdStats } from './stats.js';
import type { Databases } from './databases.js';
import { NodeStatus } from './recovery-support/node-status.js';

export interface VnnState {
  generation: number;
  pnns: number[];
}

/** The bodies that count as record traffic (statistic node_record_messages_sent). */
const recordBodies = new Set(['callRequest', 'dmasterRequest', 'dmasterReply']);

export class Ctx {
  readonly pnn: number;
  readonly log: Logger;
  readonly tunables: TunableValues;
  readonly incarnation: number;
  readonly startNs: number;
  vnn: VnnState = { generation: 0, pnns: [] };
  /** Until when this node may serve records (§2.2); kept by the lease fence. */
  leaseUntilNs = 0;
  /** Next sequence number per destination link (§2.1.9). */
  private readonly linkSeq = new Map<number, number>();
  /** PNNs whose link from here is up (handshake seen, keepalives arriving). */
  readonly linksUp = new Set<number>();
  readonly status = new NodeStatus();
  /** dbd appended to a db's vacuum feed (set by the core: vacuumd is told, §4.1). */
  feedGrew: (dbId: number) => void = () => undefined;

  constructor(readonly cfg: CoreConfig, readonly io: CoreIo, readonly stats: DbdStats, readonly dbs: Databases) {
    this.pnn = cfg.pnn;
    this.log = cfg.log;
    this.tunables = cfg.tunables;
    this.incarnation = io.randomU32();
    this.startNs = io.nowNs();
  }

  /** Sends a node message stamped with generation, incarnation and the link's sequence number. */
  sendNode(to: number, init: EnvelopeInit): void {
    const seq = (this.linkSeq.get(to) ?? 0) + 1;
    this.linkSeq.set(to, seq);
    const env: EnvelopeInit = {
      ...init,
      version: protocolVersion,
      node: { srcPnn: this.pnn, generation: this.vnn.generation, incarnation: this.incarnation, seq, nodesHash: this.cfg.nodes.hash },
    };
    this.stats.inc('node_messages_sent');
    for (const k of Object.keys(init)) if (recordBodies.has(k)) this.stats.inc('node_record_messages_sent');
    this.io.sendToNode(to, env);
  }

  isMember(pnn: number): boolean {
    return this.vnn.pnns.includes(pnn);
  }

  leaseValid(): boolean {
    return this.vnn.generation !== 0 && this.isMember(this.pnn) && this.leaseUntilNs > this.io.nowNs();
  }

  /** Records are served only unfrozen and within the lease (§2.2, §5.3.1). */
  serving(): boolean {
    return !this.status.frozen && this.leaseValid();
  }

  /** Something needs a recovery (a link went down, a peer restarted, a lost hand-over...). */
  wantRecovery(reason: string): void {
    this.status.recoveryRequests += 1;
    this.log.info({ reason }, 'recovery wanted');
    this.io.publish({ recoveryWanted: { reason } });
  }

  /** Other non-deleted nodes of the nodes file. */
  peers(): number[] {
    return this.cfg.nodes.nodes.filter((n) => !n.deleted && n.pnn !== this.pnn).map((n) => n.pnn);
  }
}
