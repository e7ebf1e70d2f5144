// Virtual time and the event queue of a simulation: everything that happens — a message
// delivered, a timer fired, a client acting, a fault — is an event at a virtual time, run in
// order (time, then insertion). Nothing in a simulation reads the real clock.

export interface SimEvent {
  atMs: number;
  seq: number;
  run: () => void;
  /** Cleared when cancelled (a timer replaced, a node killed). */
  live: boolean;
}

export class World {
  nowMs = 0;
  private seq = 0;
  /** A binary heap ordered by (atMs, seq). */
  private readonly heap: SimEvent[] = [];
  /** Events run so far (a bound on a schedule's work). */
  steps = 0;

  at(delayMs: number, run: () => void): SimEvent {
    const ev: SimEvent = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, run, live: true };
    this.push(ev);
    return ev;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs events up to and including `untilMs`; the clock ends at untilMs. Returns false when `stop` said so. */
  runUntil(untilMs: number, afterEach: () => void = () => undefined, stop: () => boolean = () => false): boolean {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.atMs > untilMs) break;
      this.pop();
      if (!top.live) continue;
      this.nowMs = top.atMs;
      this.steps++;
      top.run();
      afterEach();
      if (stop()) return false;
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
    return true;
  }

  private before(a: SimEvent, b: SimEvent): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** One core's timers on the world: setting an id again replaces it. */
export class SimTimers {
  private readonly byId = new Map<string, SimEvent>();

  constructor(private readonly world: World, private readonly fire: (id: string) => void) {}

  setTimer(id: string, delayMs: number): void {
    this.cancelTimer(id);
    const ev = this.world.at(delayMs, () => {
      this.byId.delete(id);
      this.fire(id);
    });
    this.byId.set(id, ev);
  }

  cancelTimer(id: string): void {
    const ev = this.byId.get(id);
    if (ev === undefined) return;
    ev.live = false;
    this.byId.delete(id);
  }

  /** A killed daemon's timers never fire. */
  clear(): void {
    for (const ev of this.byId.values()) ev.live = false;
    this.byId.clear();
  }
}
