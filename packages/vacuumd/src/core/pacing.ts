// Pacing (DESIGN §4.7): vacuumd works in batches and yields between them, so dbd's event loop
// keeps serving clients. After a batch that kept dbd busy for t ms vacuumd waits t × ratio
// (bounded), a duty cycle that holds client latency near its idle value during a long vacuum.
import type { Clock } from './dbd-port.js';

export interface PacingPolicy {
  /** Wait after a batch, as a fraction of the batch's own duration. */
  idleRatio: number;
  pauseMsMin: number;
  pauseMsMax: number;
}

export const pacingDefault: PacingPolicy = { idleRatio: 1, pauseMsMin: 1, pauseMsMax: 50 };

export function pauseAfterBatchMs(policy: PacingPolicy, batchMs: number): number {
  const wanted = Math.max(0, batchMs) * policy.idleRatio;
  return Math.min(policy.pauseMsMax, Math.max(policy.pauseMsMin, Math.round(wanted)));
}

/** Measures one batch and yields after it. */
export class Pacer {
  constructor(private readonly clock: Clock, private readonly policy: PacingPolicy = pacingDefault) {}

  async paced<T>(batch: () => Promise<T>): Promise<T> {
    const startMs = this.clock.nowMs();
    const out = await batch();
    await this.clock.sleepMs(pauseAfterBatchMs(this.policy, this.clock.nowMs() - startMs));
    return out;
  }
}
