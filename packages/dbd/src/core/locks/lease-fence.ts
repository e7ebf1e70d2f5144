// Fencing of record service (DESIGN §2.2). dbd probes every node of the nodes file with a probe
// stamped with its installed generation; once acks from a majority of the nodes file (itself
// included) came back, it may serve records — and so may shared-access clients — until
// SharedAccessLease after the probe was *sent*. A node acks only a probe of the generation it
// installed itself, from a (PNN, incarnation) of that generation, and not while a recovery has
// frozen it for a newer one; witnesses ack like members. Stop, ban, inactivity and a recovery
// freeze drop the lease at once and forget the probes sent before. The lease is written to each
// db's meta row, where shared-access clients check it.
//
// One message per peer per interval (SharedAccessLease / 3): the acks of a peer's probes ride on
// this node's own next probe to it, or, from a node that sends no probes, on a ProbeAck at its
// next tick. An `urgent` probe (the sender's lease lapsed or ends within two intervals) is acked
// at once. A late ack can only shorten a lease, which runs from the probe's send time: with acks
// at most one interval late, the lease is renewed a full interval before it would end.
import type { Ctx } from '../ctx.js';

/** Probes kept waiting for acks; older ones can no longer extend the lease anyway. */
const probesOutstandingMax = 8;
/** Acks kept per peer until the next tick (a peer probes once an interval). */
const acksPendingMax = 8;

export const probeTimerId = 'lease-probe';

interface Probe {
  sentNs: number;
  generation: number;
  acks: Set<number>;
}

interface PendingAck {
  probeId: number;
  generation: number;
  incarnation: number;
}

export class LeaseFence {
  private nextProbeId = 1;
  private readonly probes = new Map<number, Probe>();
  private readonly acksFor = new Map<number, PendingAck[]>();

  constructor(private readonly ctx: Ctx, private readonly onRenewed: (wasValid: boolean) => void) {}

  probeIntervalMs(): number {
    return Math.max(10, Math.floor(this.ctx.tunables.sharedAccessLeaseMs / 3));
  }

  /** Whether this node may hold a lease at all: a member taken in, not frozen for any reason. */
  private mayHoldLease(): boolean {
    const { ctx } = this;
    return ctx.vnn.generation !== 0 && ctx.status.joined && ctx.isMember(ctx.pnn) && !ctx.frozen();
  }

  /** Whether a probe of `generation` from (from, incarnation) may be acked now (§2.2). */
  private ackable(from: number, generation: number, incarnation: number): boolean {
    const st = this.ctx.status;
    if (generation === 0 || generation !== st.installedGeneration || generation !== this.ctx.vnn.generation) return false;
    // Frozen for a newer generation: no ack. Installed and waiting for the thaw: ack, as every
    // participant installed it before any thaw (§5.3.3).
    return st.recoveryFreeze <= st.installedGeneration && st.isParticipant(from, incarnation);
  }

  /** Timer tick: a probe (carrying acks) to every other node of the nodes file, or the acks alone. */
  tick(): void {
    const { ctx } = this;
    ctx.io.setTimer(probeTimerId, this.probeIntervalMs());
    const probing = this.mayHoldLease();
    const id = probing ? this.newProbe() : 0;
    const urgent = probing && ctx.leaseUntilNs - ctx.io.clock.nowNs() < 2 * this.probeIntervalMs() * 1e6;
    for (const p of ctx.countedNodes()) {
      if (p === ctx.pnn) continue;
      const acks = this.takeAcks(p);
      if (probing) ctx.sendNode(p, { probe: { probeId: id, acks, urgent } });
      else if (acks.length > 0) ctx.sendNode(p, { probeAck: { probeIds: acks } });
    }
  }

  private newProbe(): number {
    const { ctx } = this;
    const id = this.nextProbeId++;
    this.probes.set(id, { sentNs: ctx.io.clock.nowNs(), generation: ctx.vnn.generation, acks: new Set([ctx.pnn]) });
    for (const old of this.probes.keys()) {
      if (this.probes.size <= probesOutstandingMax) break;
      this.probes.delete(old);
    }
    this.check(id);
    return id;
  }

  /** The acks pending for `peer` that still hold now (a freeze since their probe voids them). */
  private takeAcks(peer: number): number[] {
    const pending = this.acksFor.get(peer);
    if (pending === undefined) return [];
    this.acksFor.delete(peer);
    return pending.filter((a) => this.ackable(peer, a.generation, a.incarnation)).map((a) => a.probeId);
  }

  /** Another node's probe (its header's generation and incarnation) and the acks it carries. */
  onProbe(from: number, generation: number, incarnation: number, probeId: number, acks: readonly number[], urgent: boolean): void {
    if (acks.length > 0) this.onProbeAck(from, generation, incarnation, acks);
    if (!this.ackable(from, generation, incarnation)) return;
    if (urgent) {
      this.ctx.sendNode(from, { probeAck: { probeIds: [probeId] } });
      return;
    }
    const pending = this.acksFor.get(from) ?? [];
    pending.push({ probeId, generation, incarnation });
    if (pending.length > acksPendingMax) pending.shift();
    this.acksFor.set(from, pending);
  }

  onProbeAck(from: number, generation: number, incarnation: number, probeIds: readonly number[]): void {
    if (!this.ctx.status.isParticipant(from, incarnation)) return;
    for (const probeId of probeIds) {
      const p = this.probes.get(probeId);
      if (p === undefined || generation !== p.generation) continue;
      p.acks.add(from);
      this.check(probeId);
    }
  }

  private check(probeId: number): void {
    const { ctx } = this;
    const p = this.probes.get(probeId);
    if (p === undefined || p.generation !== ctx.vnn.generation || !this.mayHoldLease()) return;
    if (p.acks.size < ctx.majority()) return;
    this.probes.delete(probeId);
    const until = p.sentNs + ctx.tunables.sharedAccessLeaseMs * 1e6;
    if (until <= ctx.leaseUntilNs) return;
    const wasValid = ctx.leaseValid();
    ctx.leaseUntilNs = until;
    for (const db of ctx.dbs.all()) db.file.setLease(until);
    this.onRenewed(wasValid);
  }

  /**
   * The lease ends now (a freeze, stop, ban, inactivity, a new generation): acks to probes sent
   * before cannot renew it (§2.2), and acks this node owed for an older state are not sent.
   */
  drop(): void {
    this.probes.clear();
    this.acksFor.clear();
    this.ctx.leaseUntilNs = 0;
    for (const db of this.ctx.dbs.all()) db.file.setLease(0);
  }
}
