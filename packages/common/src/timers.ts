// Real timers for a core's timer requests (one per id; a new request replaces the old), shared by
// the daemons' shells. Delays under 1 ms run on the next turn of the event loop (setImmediate).
export class Timers<Id extends string = string> {
  private readonly byId = new Map<Id, () => void>();

  constructor(private readonly fire: (id: Id) => void) {}

  set(id: Id, delayMs: number): void {
    this.cancel(id);
    const run = (): void => {
      this.byId.delete(id);
      this.fire(id);
    };
    if (delayMs < 1) {
      const h = setImmediate(run);
      this.byId.set(id, () => clearImmediate(h));
    } else {
      const h = setTimeout(run, delayMs);
      this.byId.set(id, () => clearTimeout(h));
    }
  }

  cancel(id: Id): void {
    const stop = this.byId.get(id);
    if (stop === undefined) return;
    stop();
    this.byId.delete(id);
  }

  clear(): void {
    for (const stop of this.byId.values()) stop();
    this.byId.clear();
  }
}
