// The model of what clients were told (issue 11, invariant 3): every store and delete a client
// made, with whether it was acknowledged, failed, or left unanswered (its outcome unknown), and
// the deletions whose vacuuming completed (invariant 2). Values are unique per write, so a value
// found in the cluster names the write that put it there.

export type OpOutcome = 'acked' | 'failed' | 'unknown';

export interface WriteOp {
  key: string;
  /** '' for a delete. */
  value: string;
  outcome: OpOutcome;
  startMs: number;
  doneMs: number;
  /** The node the client wrote through, and that dbd's incarnation then. */
  pnn: number;
  incarnation: number;
}

export interface VacuumedDeletion {
  key: string;
  /** The tombstone's rsn that StoreTombstone placed on every member. */
  rsn: number;
  atMs: number;
}

export class Model {
  readonly writes: WriteOp[] = [];
  readonly vacuumed: VacuumedDeletion[] = [];
  /**
   * (pnn, incarnation) that some generation left out after `atMs`: a write acknowledged there
   * before that moment may be lost (DESIGN §5.4: its only holder was left out).
   */
  readonly leftOut: { pnn: number; incarnation: number; atMs: number }[] = [];

  record(op: WriteOp): void {
    this.writes.push(op);
  }

  /**
   * Values `key` held before a deletion whose vacuuming completed: none may be served again
   * (invariant 2). For each completed vacuuming, the last delete begun before it; every write
   * acknowledged before that delete began wrote a dead value.
   */
  deadValues(key: string): Set<string> {
    const dead = new Set<string>();
    for (const v of this.vacuumed) {
      if (v.key !== key) continue;
      const deletes = this.writes.filter((d) => d.key === key && d.value === '' && d.outcome !== 'failed' && d.startMs <= v.atMs).sort((a, b) => a.startMs - b.startMs);
      const last = deletes.at(-1);
      if (last === undefined) continue;
      for (const w of this.writes) if (w.key === key && w.value !== '' && w.outcome === 'acked' && w.doneMs <= last.startMs) dead.add(w.value);
    }
    return dead;
  }

  private mayBeLost(w: WriteOp): boolean {
    return this.leftOut.some((l) => l.pnn === w.pnn && l.incarnation === w.incarnation && l.atMs >= w.doneMs);
  }

  /**
   * The values `key` may hold at the end (invariant 3): the last acknowledged write that may not
   * have been lost, or any write after it that was not known to fail (unknown outcome, or
   * acknowledged but possibly lost with its holder). '' stands for deleted or absent.
   */
  allowedFinal(key: string): Set<string> {
    const ws = this.writes.filter((w) => w.key === key && w.outcome !== 'failed').sort((a, b) => a.doneMs - b.doneMs);
    const allowed = new Set<string>();
    let i = ws.length - 1;
    for (; i >= 0; i--) {
      const w = ws[i]!;
      allowed.add(w.value);
      if (w.outcome === 'acked' && !this.mayBeLost(w)) break;
    }
    // Nothing certain: the key may be absent (never written, or every write may be lost).
    if (i < 0) allowed.add('');
    // Writes whose outcome was unknown may have landed in any order with the ones around them.
    for (const w of ws) if (w.outcome === 'unknown') allowed.add(w.value);
    return allowed;
  }

  keys(): string[] {
    return [...new Set(this.writes.map((w) => w.key))].sort();
  }
}
