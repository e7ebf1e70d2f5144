// vacuumd's Prometheus metrics (DESIGN §7: <node address>:(metrics port + 1)/metrics). Counters
// per db (a bounded label), the pending gauge and the age of the oldest pending deletion.
import { Registry } from '@ctdbng/common';
import type { PassReport } from '../core/vacuum-pass.js';

export class VacuumMetrics {
  readonly registry = new Registry();
  private readonly pending = this.registry.gauge('ctdbng_vacuum_pending_records', 'Deletions vacuumd holds that are not yet purged from every node.');
  private readonly oldestAge = this.registry.gauge('ctdbng_vacuum_oldest_pending_age_seconds', 'Age of the oldest pending deletion.');
  private readonly purged = this.registry.counter('ctdbng_vacuum_purged_total', 'Tombstones purged (removed from every node).');
  private readonly migrated = this.registry.counter('ctdbng_vacuum_migrated_total', 'Tombstones handed to their lmaster, whose vacuumd takes over.');
  private readonly dropped = this.registry.counter('ctdbng_vacuum_dropped_total', 'Work items dropped: record gone, re-created (NEWER) or dmaster elsewhere.');
  private readonly retried = this.registry.counter('ctdbng_vacuum_retried_total', 'Attempts answered "not now" (locked, busy, unreachable, frozen): retried with backoff.');
  private readonly failed = this.registry.counter('ctdbng_vacuum_failed_total', 'Attempts whose request to dbd failed (error reply, timeout): retried with backoff.');
  private readonly passes = this.registry.counter('ctdbng_vacuum_passes_total', 'Vacuum passes run.');
  private readonly reclaimSteps = this.registry.counter('ctdbng_vacuum_reclaim_steps_total', 'ReclaimSpace steps asked of dbd.');

  onReport(r: PassReport, nowMs: number): void {
    const labels = { db: r.db.name };
    const c = r.counts;
    this.purged.inc(labels, c.purged);
    this.migrated.inc(labels, c.migrated);
    this.dropped.inc(labels, c.dropped);
    this.retried.inc(labels, c.retried);
    this.failed.inc(labels, c.failed);
    this.passes.inc(labels);
    if (r.space !== undefined) this.reclaimSteps.inc(labels, r.space.steps);
    this.setGauges(r.db.name, r.pending, r.oldestFirstSeenMs, nowMs);
  }

  setGauges(db: string, pending: number, oldestFirstSeenMs: number | undefined, nowMs: number): void {
    this.pending.set(pending, { db });
    this.oldestAge.set(oldestFirstSeenMs === undefined ? 0 : Math.max(0, (nowMs - oldestFirstSeenMs) / 1000), { db });
  }
}
