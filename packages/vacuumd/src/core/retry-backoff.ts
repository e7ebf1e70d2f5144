// Retries of a deletion that could not complete (DESIGN §4.4): exponential backoff from
// VacuumRetryMin to VacuumRetryMax, doubling per failed attempt, forever — a deletion is never
// forgotten. No jitter: items of one batch failed together for one reason and retry together.
import { assert } from '@ctdbng/common';

export interface RetryPolicy {
  retryDelayMsMin: number;
  retryDelayMsMax: number;
}

/** The delay before attempt `attempts + 1`, given `attempts` failed attempts (≥ 1) so far. */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  assert(attempts >= 1, 'retry delay asked for an item that has not failed');
  assert(policy.retryDelayMsMin >= 1, 'VacuumRetryMin below 1 ms');
  // 2^30 × the minimum already exceeds any VacuumRetryMax: cap the exponent so it stays finite.
  const doublings = Math.min(attempts - 1, 30);
  const delayMs = Math.min(policy.retryDelayMsMax, policy.retryDelayMsMin * 2 ** doublings);
  return Math.max(delayMs, policy.retryDelayMsMin);
}

export interface Rescheduled {
  attempts: number;
  nextTryMs: number;
}

/** The item's next attempt after one more failure at nowMs. */
export function rescheduleAfterFailure(policy: RetryPolicy, attemptsBefore: number, nowMs: number): Rescheduled {
  const attempts = attemptsBefore + 1;
  return { attempts, nextTryMs: nowMs + retryDelayMs(policy, attempts) };
}
