// Polling a record lock held by a shared-access client (DESIGN §2.2): such a holder does not
// talk to dbd, so dbd re-checks with backoff (about 50 µs growing to LockPollMaxMs).
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';
import type { KeyState } from '../record-flow/key-state.js';

const pollDelayMsMin = 0.05;

export interface PollEntry {
  db: DbState;
  ks: KeyState;
}

export class LockPoller {
  /** Timer id → the key it re-checks. At most one per key with waiters. */
  private readonly timers = new Map<string, PollEntry>();
  private readonly ids = new WeakMap<KeyState, string>();
  private nextId = 1;

  constructor(private readonly ctx: Ctx) {}

  arm(db: DbState, ks: KeyState): void {
    if (ks.pollArmed) return;
    ks.pollDelayMs = ks.pollDelayMs === 0 ? pollDelayMsMin : Math.min(ks.pollDelayMs * 2, this.ctx.tunables.lockPollMaxMs);
    let id = this.ids.get(ks);
    if (id === undefined) {
      id = `poll:${this.nextId++}`;
      this.ids.set(ks, id);
    }
    ks.pollArmed = true;
    this.timers.set(id, { db, ks });
    this.ctx.io.setTimer(id, ks.pollDelayMs);
  }

  /** The poll timer fired: the key to pump again. */
  take(id: string): PollEntry | undefined {
    const entry = this.timers.get(id);
    if (entry === undefined) return undefined;
    this.timers.delete(id);
    entry.ks.pollArmed = false;
    return entry;
  }
}
