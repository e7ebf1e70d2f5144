// Real timers for the core's timer requests (one per id; a new request replaces the old).
// Delays under 1 ms run on the next turn of the event loop (setImmediate), not after 1 ms.
export class Timers {
  private readonly byId = new Map<string, () => void>();

  constructor(private readonly fire: (id: string) => void) {}

  set(id: string, delayMs: number): void {
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

  cancel(id: string): void {
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
