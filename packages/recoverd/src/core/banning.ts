// Banning (DESIGN §5.3.4): a node that fails a recovery step RecoveryBanCount recoveries in a row
// is banned for RecoveryBanPeriod seconds. One count per node per recovery; a recovery the node
// went through without failing resets its count.
import { assert } from '@ctdbng/common';

export class BanCounter {
  private readonly failures = new Map<number, number>();

  /** `pnnsMax` bounds the map: only nodes of the nodes file are counted. */
  constructor(private readonly banCount: () => number, private readonly pnnsMax: number) {}

  /** Counts one failed recovery against `pnn`; true when it reached the ban count (count reset). */
  fail(pnn: number): boolean {
    assert(pnn >= 0 && pnn < this.pnnsMax, `failure counted against unknown node ${pnn}`);
    const n = (this.failures.get(pnn) ?? 0) + 1;
    if (n >= this.banCount()) {
      this.failures.delete(pnn);
      return true;
    }
    this.failures.set(pnn, n);
    return false;
  }

  /** The nodes took part in a recovery without failing. */
  succeed(pnns: Iterable<number>): void {
    for (const p of pnns) this.failures.delete(p);
  }

  count(pnn: number): number {
    return this.failures.get(pnn) ?? 0;
  }
}
