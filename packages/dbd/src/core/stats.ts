// dbd statistics: one counter per outcome, served by the statistics control and as Prometheus
// metrics (ctdbng_dbd_<name>_total). Names are listed in packages/dbd/README.md.
import { Registry, type Counter, type Histogram } from '@ctdbng/common';

export const statNames = [
  'client_requests',
  'record_requests',
  'node_messages_sent',
  'node_messages_received',
  'node_record_messages_sent',
  'calls_started',
  'calls_served_remote',
  'migrations_in',
  'migrations_out',
  'redirects',
  'high_hopcounts',
  'records_created',
  'lock_waits',
  'locks_broken',
  'fetch_lock_local',
  'bad_frames',
  'bad_requests',
  'traverses',
  'messages_delivered',
  'dmaster_mismatches',
  'wrong_generation',
] as const;

export type StatName = (typeof statNames)[number];

export class DbdStats {
  readonly registry = new Registry();
  private readonly counters = new Map<StatName, Counter>();
  /** Time from a fetch_lock request to its reply (local, waited or migrated). */
  readonly fetchLockSeconds: Histogram;
  /** Time a request waited for a record lock held by someone else. */
  readonly lockWaitSeconds: Histogram;
  /** Time from sending a CallRequest to the record arriving. */
  readonly migrationSeconds: Histogram;

  constructor() {
    for (const name of statNames) this.counters.set(name, this.registry.counter(`ctdbng_dbd_${name}_total`, `dbd ${name.replace(/_/g, ' ')}`));
    this.fetchLockSeconds = this.registry.histogram('ctdbng_dbd_fetch_lock_duration_seconds', 'fetch_lock request to reply');
    this.lockWaitSeconds = this.registry.histogram('ctdbng_dbd_lock_wait_duration_seconds', 'wait for a record lock held by another');
    this.migrationSeconds = this.registry.histogram('ctdbng_dbd_call_duration_seconds', 'CallRequest sent to record arrived');
  }

  inc(name: StatName, by = 1): void {
    this.counters.get(name)!.inc(undefined, by);
  }

  get(name: StatName): number {
    return this.counters.get(name)!.get();
  }

  snapshot(): { name: string; value: number }[] {
    return statNames.map((name) => ({ name, value: this.get(name) }));
  }
}
