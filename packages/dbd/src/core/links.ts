// Liveness of node links (DESIGN §2.1.9, §5.1): keepalives every KeepaliveInterval; a link with
// nothing heard for KeepaliveInterval × KeepaliveLimit is down; a changed incarnation (the peer
// restarted) or a gap in the link's sequence numbers (a message lost) counts as the link going
// down. Each of these asks for a recovery. Sequence numbers start again at 1 with each generation
// the sender installs: a gap is a message of the same generation lost; what a cut dropped before
// the recovery that followed it needs no second recovery. There is no keepalive timer: `tick` runs
// on the lease-probe timer (one timer per node for every peer and purpose), and sends a keepalive
// only to a peer this node sent nothing to for KeepaliveInterval (probes keep a member's links busy).
import type { Ctx } from './ctx.js';


interface PeerView {
  lastHeardNs: number;
  incarnation: number;
  /** The generation the peer stamped on its last message, and that message's sequence number. */
  generation: number;
  lastSeq: number;
}

export class LinkMonitor {
  private readonly peers = new Map<number, PeerView>();

  constructor(private readonly ctx: Ctx, private readonly onDown: (pnn: number, why: string) => void) {}

  /** Every node message: returns false when it must be ignored (already seen, or of an older generation than the last). */
  heard(from: number, incarnation: number, generation: number, seq: number): boolean {
    const { ctx } = this;
    const now = ctx.io.clock.nowNs();
    const p = this.peers.get(from);
    if (p === undefined || p.incarnation !== incarnation) {
      if (p !== undefined) {
        ctx.log.warn({ peer: from, old: p.incarnation, new: incarnation }, 'peer dbd restarted');
        ctx.io.publish({ link: { pnn: from, state: 'restarted' } });
        ctx.wantRecovery(`node ${from} restarted`);
      }
      this.peers.set(from, { lastHeardNs: now, incarnation, generation, lastSeq: seq });
      return true;
    }
    p.lastHeardNs = now;
    if (generation < p.generation) return false;
    if (generation > p.generation) {
      // The peer installed a newer generation: its numbers start again at 1.
      p.generation = generation;
      p.lastSeq = 0;
    }
    if (seq <= p.lastSeq) return false;
    if (seq !== p.lastSeq + 1) {
      ctx.log.warn({ peer: from, generation, expected: p.lastSeq + 1, got: seq }, 'gap in a node link: messages lost');
      ctx.wantRecovery(`messages from node ${from} lost`);
    }
    p.lastSeq = seq;
    return true;
  }

  /**
   * At every lease-probe tick: a keepalive to every peer this node sent nothing to for
   * KeepaliveInterval (lease probes usually keep a link busy enough: one timer's traffic per
   * peer, not one per purpose), and links silent too long are down.
   */
  tick(): void {
    const { ctx } = this;
    const intervalMs = ctx.tunables.keepaliveIntervalSeconds * 1000;
    const now = ctx.io.clock.nowNs();
    for (const p of ctx.peers()) if (now - (ctx.lastSentNs.get(p) ?? -Infinity) >= intervalMs * 1e6 * 0.9) ctx.sendNode(p, { keepalive: {} });
    const silentNsMax = intervalMs * ctx.tunables.keepaliveLimitCount * 1e6;
    for (const pnn of [...ctx.linksUp]) {
      const p = this.peers.get(pnn);
      if (p !== undefined && now - p.lastHeardNs > silentNsMax) this.onDown(pnn, 'keepalives missed');
    }
  }
}
