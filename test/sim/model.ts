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

const noValues: ReadonlySet<string> = new Set();

export class Model {
  readonly writes: WriteOp[] = [];
  readonly vacuumed: VacuumedDeletion[] = [];
  /** Rises when a delete is recorded or a vacuuming completes: what deadValues() depends on. */
  deadVersion = 0;
  private readonly deadCache = new Map<string, { version: number; dead: Set<string> }>();
  private readonly vacuumedKeys = new Set<string>();
  /**
   * Moments a generation left out a node that held a key ('*': any key): a write of that key
   * acknowledged before may be lost (DESIGN §5.4: its only holder was left out).
   */
  private readonly leftOutAt = new Map<string, number[]>();

  /**
   * Writes acknowledged by a node that served a generation older than one already installed
   * elsewhere: left out by it, the node still served until the lease it held from before the
   * freeze lapsed (DESIGN §2.2: the leader waits that lease out before any thaw), and its copies
   * of that older generation do not count in any later merge (§5.4), so such a write may be lost.
   */
  private readonly superseded = new Set<WriteOp>();

  /** `w` was acknowledged by a node serving a generation older than the newest installed. */
  ackedInSupersededGeneration(w: WriteOp): void {
    this.superseded.add(w);
  }

  /** A generation installed at `atMs` left out a node that held `key` ('*' for every key). */
  leftOut(key: string, atMs: number): void {
    const times = this.leftOutAt.get(key) ?? [];
    times.push(atMs);
    this.leftOutAt.set(key, times);
  }

  record(op: WriteOp): void {
    this.writes.push(op);
    // A write recorded now ended now, after every completed vacuuming: it changes no dead set;
    // a delete may have begun before one.
    if (op.value === '') this.deadVersion++;
  }

  /** StoreTombstone of `key` at `rsn` reached every member at `atMs`. */
  vacuumCompleted(v: VacuumedDeletion): void {
    this.vacuumed.push(v);
    this.vacuumedKeys.add(v.key);
    this.deadVersion++;
  }

  /**
   * Values `key` held before a deletion whose vacuuming completed: none may be served again
   * (invariant 2). For each completed vacuuming, the last delete begun before it; every write
   * acknowledged before that delete began wrote a dead value.
   */
  deadValues(key: string): ReadonlySet<string> {
    if (!this.vacuumedKeys.has(key)) return noValues;
    const cached = this.deadCache.get(key);
    if (cached !== undefined && cached.version === this.deadVersion) return cached.dead;
    const dead = new Set<string>();
    this.deadCache.set(key, { version: this.deadVersion, dead });
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
    if (this.superseded.has(w)) return true;
    return [...(this.leftOutAt.get(w.key) ?? []), ...(this.leftOutAt.get('*') ?? [])].some((t) => t >= w.doneMs);
  }

  /**
   * The values `key` may hold at the end (invariant 3). Writes of a key are serialized by its
   * lock, but an answer can overtake another's on the way back, so the order of the writes is
   * known only where one began after another was acknowledged. A write is ruled out only when an
   * acknowledged write that may not have been lost began after it ended; a write whose outcome
   * was unknown may still land after the client gave up, so it is never ruled out. '' stands
   * for deleted or absent, allowed too when every write may have been lost.
   */
  allowedFinal(key: string): Set<string> {
    const ws = this.writes.filter((w) => w.key === key && w.outcome !== 'failed');
    const certain = ws.filter((w) => w.outcome === 'acked' && !this.mayBeLost(w));
    const allowed = new Set<string>();
    for (const w of ws) {
      const endMs = w.outcome === 'unknown' ? Infinity : w.doneMs;
      if (!certain.some((c) => c.startMs > endMs)) allowed.add(w.value);
    }
    if (certain.length === 0) allowed.add('');
    return allowed;
  }

  keys(): string[] {
    return [...new Set(this.writes.map((w) => w.key))].sort();
  }
}
