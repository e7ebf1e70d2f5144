// Fencing of record service (DESIGN §2.2). dbd probes every node of the nodes file with a probe
// stamped with its installed generation; once acks from a majority of the nodes file (itself
// included) came back, it may serve records — and so may shared-access clients — until
// SharedAccessLease after the probe was *sent*. A node acks only a probe of the generation it
// installed itself, from a (PNN, incarnation) of that generation, and not while a recovery has
// frozen it for a newer one; witnesses ack like members. Stop, ban, inactivity and a recovery
// freeze drop the lease at once and forget the probes sent before. The lease is written to each
// db's meta row, where shared-access clients check it.
import type { Ctx } from '../ctx.js';

/** Probes kept waiting for acks; older ones can no longer extend the lease anyway. */
const probesOutstandingMax = 8;

export const probeTimerId = 'lease-probe';

interface Probe {
  sentNs: number;
  generation: number;
  acks: Set<number>;
}

export class LeaseFence {
  private nextProbeId = 1;
  private readonly probes = new Map<number, Probe>();

  constructor(private readonly ctx: Ctx, private readonly onRenewed: (wasValid: boolean) => void) {}

  probeIntervalMs(): number {
    return Math.max(10, Math.floor(this.ctx.tunables.sharedAccessLeaseMs / 4));
  }

  /** Whether this node may hold a lease at all: a member taken in, not frozen for any reason. */
  private mayHoldLease(): boolean {
    const { ctx } = this;
    return ctx.vnn.generation !== 0 && ctx.status.joined && ctx.isMember(ctx.pnn) && !ctx.frozen();
  }

  /** Timer tick: a probe to every other node of the nodes file; alone a majority, renew at once. */
  tick(): void {
    const { ctx } = this;
    ctx.io.setTimer(probeTimerId, this.probeIntervalMs());
    if (!this.mayHoldLease()) return;
    const id = this.nextProbeId++;
    this.probes.set(id, { sentNs: ctx.io.clock.nowNs(), generation: ctx.vnn.generation, acks: new Set([ctx.pnn]) });
    for (const old of this.probes.keys()) {
      if (this.probes.size <= probesOutstandingMax) break;
      this.probes.delete(old);
    }
    this.check(id);
    for (const p of ctx.countedNodes()) if (p !== ctx.pnn) ctx.sendNode(p, { probe: { probeId: id } });
  }

  /** Another node's probe (its header's generation and incarnation): ack it only as §2.2 says. */
  onProbe(from: number, generation: number, incarnation: number, probeId: number): void {
    const st = this.ctx.status;
    if (generation === 0 || generation !== st.installedGeneration || generation !== this.ctx.vnn.generation) return;
    // Frozen for a newer generation: no ack. Installed and waiting for the thaw: ack, as every
    // participant installed it before any thaw (§5.3.3).
    if (st.recoveryFreeze > st.installedGeneration || !st.isParticipant(from, incarnation)) return;
    this.ctx.sendNode(from, { probeAck: { probeId } });
  }

  onProbeAck(from: number, generation: number, incarnation: number, probeId: number): void {
    const p = this.probes.get(probeId);
    if (p === undefined || generation !== p.generation || !this.ctx.status.isParticipant(from, incarnation)) return;
    p.acks.add(from);
    this.check(probeId);
  }

  private check(probeId: number): void {
    const { ctx } = this;
    const p = this.probes.get(probeId)!;
    if (p.generation !== ctx.vnn.generation || !this.mayHoldLease()) return;
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
   * before cannot renew it (§2.2).
   */
  drop(): void {
    this.probes.clear();
    this.ctx.leaseUntilNs = 0;
    for (const db of this.ctx.dbs.all()) db.file.setLease(0);
  }
}
