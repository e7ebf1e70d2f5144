// Every outcome of a pass is counted, as ctdb_vacuum.c does, and the sum is asserted at the end
// of the pass (STYLE §2): every item the pass saw ended in exactly one outcome.
import { assert } from '@ctdbng/common';

/**
 * purged   removed from every node (or locally, fast path) — done;
 * dropped  nothing left to do here: gone, re-created (NEWER), or another node is dmaster — done;
 * migrated handed to its lmaster, whose vacuumd takes over (the tombstone enters its feed) — done;
 * retried  a node answered "not now" (BUSY, LOCKED, UNREACHABLE, refused batch, frozen): pending;
 * failed   a request to dbd failed (error reply, timeout): pending, with backoff.
 */
export type Outcome = 'purged' | 'dropped' | 'migrated' | 'retried' | 'failed';

export interface PassCounts {
  seen: number;
  purged: number;
  dropped: number;
  migrated: number;
  retried: number;
  failed: number;
  /** Of dropped: re-created while its deletion was in flight (a node answered NEWER / IS_DMASTER). */
  droppedNewer: number;
}

export function emptyCounts(): PassCounts {
  return { seen: 0, purged: 0, dropped: 0, migrated: 0, retried: 0, failed: 0, droppedNewer: 0 };
}

export function countOutcome(c: PassCounts, outcome: Outcome): void {
  c[outcome] += 1;
}

/** The end-of-pass check: seen === purged + dropped + migrated + retried + failed. */
export function assertCountsAddUp(c: PassCounts): void {
  const sum = c.purged + c.dropped + c.migrated + c.retried + c.failed;
  assert(sum === c.seen, `vacuum pass counted ${c.seen} items seen but ${sum} outcomes`);
  assert(c.droppedNewer <= c.dropped, 'more NEWER drops than drops');
}

export function addCounts(into: PassCounts, c: PassCounts): void {
  for (const k of Object.keys(into) as (keyof PassCounts)[]) into[k] += c[k];
}
