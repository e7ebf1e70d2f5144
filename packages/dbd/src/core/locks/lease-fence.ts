// Fencing of record service (DESIGN §2.2): dbd probes every member; once a majority of the
// members of its generation (itself included) acked a probe, it may serve records — and so may
// shared-access clients — until SharedAccessLease after the probe was *sent*. The lease is
// written to each db's meta row, where shared-access clients check it.
import type { Ctx } from '../ctx.js';

/** Probes kept waiting for acks; older ones can no longer extend the lease anyway. */
const probesOutstandingMax = 8;

export const probeTimerId = 'lease-probe';

export class LeaseFence {
  private nextProbeId = 1;
  private readonly probes = new Map<number, { sentNs: number; generation: number; acks: Set<number> }>();

  constructor(private readonly ctx: Ctx, private readonly onRenewed: (wasValid: boolean) => void) {}

  probeIntervalMs(): number {
    return Math.max(10, Math.floor(this.ctx.tunables.sharedAccessLeaseMs / 4));
  }

  /** Timer tick: send a probe to every other member; alone in the vnnmap, renew at once. */
  tick(): void {
    const { ctx } = this;
    ctx.io.setTimer(probeTimerId, this.probeIntervalMs());
    if (ctx.vnn.generation === 0 || !ctx.isMember(ctx.pnn)) return;
    const id = this.nextProbeId++;
    const sentNs = ctx.io.nowNs();
    this.probes.set(id, { sentNs, generation: ctx.vnn.generation, acks: new Set() });
    for (const old of this.probes.keys()) {
      if (this.probes.size <= probesOutstandingMax) break;
      this.probes.delete(old);
    }
    const others = ctx.vnn.pnns.filter((p) => p !== ctx.pnn);
    if (others.length === 0) {
      this.check(id);
      return;
    }
    for (const p of others) ctx.sendNode(p, { probe: { probeId: id } });
  }

  /** Another node's probe: ack it only within the same generation. */
  onProbe(from: number, generation: number, probeId: number): void {
    if (generation !== 0 && generation === this.ctx.vnn.generation) this.ctx.sendNode(from, { probeAck: { probeId } });
  }

  onProbeAck(from: number, generation: number, probeId: number): void {
    const p = this.probes.get(probeId);
    if (p === undefined || generation !== p.generation) return;
    p.acks.add(from);
    this.check(probeId);
  }

  private check(probeId: number): void {
    const { ctx } = this;
    const p = this.probes.get(probeId)!;
    if (p.generation !== ctx.vnn.generation) return;
    const majority = Math.floor(ctx.vnn.pnns.length / 2) + 1;
    if (p.acks.size + 1 < majority) return;
    this.probes.delete(probeId);
    const until = p.sentNs + ctx.tunables.sharedAccessLeaseMs * 1e6;
    if (until <= ctx.leaseUntilNs) return;
    const wasValid = ctx.leaseValid();
    ctx.leaseUntilNs = until;
    for (const db of ctx.dbs.all()) db.file.setLease(until);
    this.onRenewed(wasValid);
  }

  /** A new generation: the lease of the old one ends now (§5.3 thaws with a fresh one). */
  reset(): void {
    this.probes.clear();
    this.ctx.leaseUntilNs = 0;
    for (const db of this.ctx.dbs.all()) db.file.setLease(0);
  }
}
