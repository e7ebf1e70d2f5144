// The state every part of the dbd core shares: who we are, the vnnmap, the dbs, the fence.
import type { EnvelopeInit } from '@ctdbng/protocol';
import { ErrorCode, protocolVersion } from '@ctdbng/protocol';
import { countedNodes, nodesMajority, type Logger, type TunableValues } from '@ctdbng/common';
import type { CoreConfig, CoreIo } from './io.js';
import type { DbdStats } from './stats.js';
import type { Databases } from './databases.js';
import { NodeStatus } from './recovery-support/node-status.js';
import { RedirectMemory } from './record-flow/lost-handover.js';
import { SlicedWork } from './vacuum-support/slices.js';

export interface VnnState {
  /** The installed generation (also after a restart, from the state file); 0 = none. */
  generation: number;
  /** Its vnnmap, known only to the incarnation that installed it. */
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
  /**
   * Last sequence number per destination link (§2.1.9), counted afresh in each generation: a
   * message of an older generation that was lost changes nothing once a newer one is installed
   * (it would have been dropped on arrival), so only a gap within a generation asks for a recovery.
   */
  private readonly linkSeq = new Map<number, number>();
  private linkSeqGeneration = 0;
  /** When this node last sent anything to each peer: a keepalive is needed only on a quiet link. */
  readonly lastSentNs = new Map<number, number>();
  /** PNNs whose link from here is up (handshake seen, keepalives arriving). */
  readonly linksUp = new Set<number>();
  readonly status = new NodeStatus();
  private callIds = 1;
  /** Calls this node redirected as lmaster, to see one come back unchanged (§2.1.9). */
  readonly redirects = new RedirectMemory();
  /** dbd appended to a db's vacuum feed (set by the core: vacuumd is told, §4.1). */
  feedGrew: (dbId: number) => void = () => undefined;
  /** Vacuum batches answered a slice at a time (vacuum-support/slices.ts). */
  readonly slices = new SlicedWork(this);

  constructor(readonly cfg: CoreConfig, readonly io: CoreIo, readonly stats: DbdStats, readonly dbs: Databases) {
    this.pnn = cfg.pnn;
    this.log = cfg.log;
    this.tunables = cfg.tunables;
    this.incarnation = 1 + Math.floor(io.random.next() * (2 ** 32 - 2));
    this.startNs = io.clock.nowNs();
    this.status.restore(io.nodeState.load());
    // A restarted dbd knows the generation it installed (for G_max, §5.4) but not its members:
    // it is a stranger until a recovery takes this incarnation in.
    this.vnn = { generation: this.status.installedGeneration, pnns: [] };
  }

  /** Writes the node state file (before answering anything that depends on it, §5.4). */
  persistState(): void {
    this.io.nodeState.save(this.status.persisted());
  }

  /** Accepts a leader's term (raising and persisting the highest seen) or returns the refusal. */
  acceptTerm(term: number): EnvelopeInit | undefined {
    const st = this.status;
    if (term < st.highestTerm) {
      return { error: { code: ErrorCode.ERR_STALE_TERM, message: `term ${term} is older than ${st.highestTerm}` } };
    }
    if (term > st.highestTerm) {
      st.highestTerm = term;
      this.persistState();
    }
    return undefined;
  }

  /** Configured `witness` in the nodes file: never a member (§1). */
  get witness(): boolean {
    return this.cfg.nodes.nodes[this.pnn]?.witness === true;
  }

  /** Frozen for records (§5.3.1, §5.4): not taken in, frozen for a recovery, stopped, banned or inactive. */
  frozen(): boolean {
    return this.status.frozen(this.io.clock.nowNs());
  }

  /** The nodes a lease probe goes to and a majority is counted over: the nodes file (§2.2). */
  countedNodes(): number[] {
    return countedNodes(this.cfg.nodes);
  }

  majority(): number {
    return nodesMajority(this.cfg.nodes);
  }

  /** This node's links reach a majority of the nodes file (itself included). */
  hasQuorum(): boolean {
    return this.linksUp.size + 1 >= this.majority();
  }

  /** Sends a node message stamped with generation, incarnation and the link's sequence number. */
  sendNode(to: number, init: EnvelopeInit): void {
    if (this.linkSeqGeneration !== this.vnn.generation) {
      this.linkSeq.clear();
      this.linkSeqGeneration = this.vnn.generation;
    }
    const seq = (this.linkSeq.get(to) ?? 0) + 1;
    this.linkSeq.set(to, seq);
    const env: EnvelopeInit = {
      ...init,
      version: protocolVersion,
      node: { srcPnn: this.pnn, generation: this.vnn.generation, incarnation: this.incarnation, seq, nodesHash: this.cfg.nodes.hash },
    };
    this.lastSentNs.set(to, this.io.clock.nowNs());
    this.stats.inc('node_messages_sent');
    for (const k of Object.keys(init)) if (recordBodies.has(k)) this.stats.inc('node_record_messages_sent');
    this.io.sendToNode(to, env);
  }

  isMember(pnn: number): boolean {
    return this.vnn.pnns.includes(pnn);
  }

  leaseValid(): boolean {
    return this.vnn.generation !== 0 && this.status.joined && this.isMember(this.pnn) && this.leaseUntilNs > this.io.clock.nowNs();
  }

  /** Records are served only unfrozen and within the lease (§2.2, §5.3.1). */
  serving(): boolean {
    return !this.frozen() && this.leaseValid();
  }

  /** Something needs a recovery (a link went down, a peer restarted, a lost hand-over...). */
  wantRecovery(reason: string): void {
    this.status.recoveryRequests += 1;
    this.log.info({ reason }, 'recovery wanted');
    this.io.publish({ recoveryWanted: { reason } });
  }

  /** A fresh record-lock token: nonzero, below 2^48, from the core's Random. */
  newLockToken(): number {
    return 1 + Math.floor(this.io.random.next() * (2 ** 48 - 2));
  }

  /** A fresh call id of this incarnation (calls of one origin are told apart by it). */
  nextCallId(): number {
    return this.callIds++;
  }

  /** Other non-deleted nodes of the nodes file. */
  peers(): number[] {
    return this.cfg.nodes.nodes.filter((n) => !n.deleted && n.pnn !== this.pnn).map((n) => n.pnn);
  }
}
