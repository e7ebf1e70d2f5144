// Membership (DESIGN §5.1): which recoverds this one hears, and whether this node is active.
// A node is visible when a recoverd message from it (vote, reply, broadcast or heartbeat) arrived
// within LeaderTimeout; this node always sees itself. A node that has not seen a majority of the
// nodes file (non-deleted lines) for LeaderTimeout is inactive: its dbd freezes and invalidates
// its volatile copies. It is active again as soon as a majority is visible.

export function majorityOf(nodeCount: number): number {
  return Math.floor(nodeCount / 2) + 1;
}

export class Membership {
  private readonly heardMs = new Map<number, number>();
  private noMajoritySinceMs: number | undefined;

  constructor(
    readonly self: number,
    /** Non-deleted PNNs of the nodes file. */
    readonly pnns: readonly number[],
    private readonly leaderTimeoutMs: () => number,
    startMs: number,
  ) {
    // At start nothing has been heard yet: the clock towards inactivity runs from now.
    this.noMajoritySinceMs = pnns.length === 1 ? undefined : startMs;
  }

  get majority(): number {
    return majorityOf(this.pnns.length);
  }

  heard(pnn: number, nowMs: number): void {
    if (pnn === this.self || !this.pnns.includes(pnn)) return;
    this.heardMs.set(pnn, nowMs);
  }

  visible(nowMs: number): number[] {
    const lt = this.leaderTimeoutMs();
    return this.pnns.filter((p) => p === this.self || nowMs - (this.heardMs.get(p) ?? -Infinity) < lt);
  }

  hasMajority(nowMs: number): boolean {
    return this.visible(nowMs).length >= this.majority;
  }

  /** Re-evaluates visibility at nowMs; returns whether this node should be active. */
  shouldBeActive(nowMs: number): boolean {
    if (this.hasMajority(nowMs)) {
      this.noMajoritySinceMs = undefined;
      return true;
    }
    this.noMajoritySinceMs ??= nowMs;
    return nowMs - this.noMajoritySinceMs < this.leaderTimeoutMs();
  }
}
