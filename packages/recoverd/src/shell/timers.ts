// Real timers for the core's timer requests (one per id; a new request replaces the old).
// Delays under 1 ms run on the next turn of the event loop (setImmediate).
import type { TimerId } from '../core/io.js';

export class Timers {
  private readonly byId = new Map<TimerId, () => void>();

  constructor(private readonly fire: (id: TimerId) => void) {}

  set(id: TimerId, delayMs: number): void {
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

  cancel(id: TimerId): void {
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
