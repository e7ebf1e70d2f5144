// Pause while dbd is frozen for a recovery (DESIGN §4.5, §5.3): no vacuum work between freeze and
// thaw. vacuumd learns of a freeze three ways, because the events PUB socket drops messages for
// a late or slow subscriber: the FreezeEvent, a VacuumPlanReply (or a request) refused as frozen,
// and NodeState.frozen polled at the start of every round. After the thaw the items are planned
// again, so routes are recomputed for the new vnnmap (items whose lmaster changed are re-routed).
export type FreezeSource = 'event' | 'plan' | 'node-state' | 'request';

export class FreezeGate {
  private frozenNow = false;
  private generationNow = 0;

  get frozen(): boolean {
    return this.frozenNow;
  }

  get generation(): number {
    return this.generationNow;
  }

  /** Records what a source reported; returns true when this thawed a frozen gate. */
  report(frozen: boolean, generation: number | undefined, _source: FreezeSource): boolean {
    const wasFrozen = this.frozenNow;
    this.frozenNow = frozen;
    if (generation !== undefined && generation !== 0) this.generationNow = generation;
    return wasFrozen && !frozen;
  }
}
