// Pacing (DESIGN §4.7): vacuumd works in batches and yields between them, so dbd's event loop
// keeps serving clients. After a batch that kept dbd busy for t ms vacuumd waits t × ratio
// (bounded), a duty cycle that holds client latency near its idle value during a long vacuum.
// The wait is the pass's `pace` timer (vacuum-pass.ts).

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
