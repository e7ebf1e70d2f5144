// One batch of tombstones through the vacuum steps (DESIGN §4.1–4): VacuumPlan routes each key,
// then per route: drop (GONE / RECREATED / NOT_DMASTER), MigrateToLmaster (TO_LMASTER), the local
// purge (LOCAL_PURGE: never migrated with data, no other node has a copy), or the two cluster
// phases (CLUSTER: StoreTombstone then TryDelete on every member, then PurgeIfUnchanged with the
// generation of the plan). Every item ends in exactly one outcome; this file decides which, the
// pass (vacuum-pass.ts) writes it to the state file.
// A batch is a state machine: one step's request in flight at a time, in the order plan →
// migrate → local purge → StoreTombstone → TryDelete → cluster purge (steps with no items are
// skipped); `done` gets the outcomes when the last step has answered.
import type { Logger } from '@ctdbng/common';
import { VacuumPhase, VacuumResult, VacuumRoute, type DbdReply, type NodeResults, type PlanReply, type VacuumKey } from './dbd-port.js';
import type { DbdRequests } from './dbd-requests.js';
import type { Outcome } from './pass-counts.js';
import type { PendingItem } from './state-file.js';

export interface ItemOutcome {
  item: PendingItem;
  outcome: Outcome;
  /** Short constant reason for logs: 'gone', 'newer', 'locked', ... */
  reason: string;
  /** false when the item waits for a thaw, not for a backoff (a freeze is not the item's failure). */
  backoff: boolean;
}

export interface BatchResult {
  outcomes: ItemOutcome[];
  /** dbd (or the plan) said frozen: the pass stops and waits for the thaw. */
  frozen: boolean;
}

type Verdict = 'ok' | 'drop' | 'retry';

const storeOk: ReadonlySet<VacuumResult> = new Set([VacuumResult.VACUUM_RESULT_STORED, VacuumResult.VACUUM_RESULT_ABSENT]);
const deleteOk: ReadonlySet<VacuumResult> = new Set([VacuumResult.VACUUM_RESULT_DELETED, VacuumResult.VACUUM_RESULT_ABSENT]);
const recreated: ReadonlySet<VacuumResult> = new Set([VacuumResult.VACUUM_RESULT_NEWER, VacuumResult.VACUUM_RESULT_IS_DMASTER]);

/** One key's verdict over every member's answer: all ok → ok; NEWER / IS_DMASTER anywhere → drop. */
export function verdictFor(nodes: readonly NodeResults[], i: number, ok: ReadonlySet<VacuumResult>, dropOn: ReadonlySet<VacuumResult>): Verdict {
  let retry = false;
  for (const n of nodes) {
    if (n.refusedCode !== 0) {
      retry = true;
      continue;
    }
    const r = n.results[i] ?? VacuumResult.VACUUM_RESULT_UNSPECIFIED;
    if (dropOn.has(r)) return 'drop';
    if (!ok.has(r)) retry = true;
  }
  return retry ? 'retry' : 'ok';
}

/** The step a batch is at: the request of that step is in flight. */
export type BatchStep = 'plan' | 'migrate' | 'local-purge' | 'store' | 'try-delete' | 'cluster-purge' | 'done';

export class BatchRunner {
  private readonly outcomes: ItemOutcome[] = [];
  /**
   * The rsn each later step names: the tombstone's rsn on this node now, as the dmaster reports
   * it in the plan — always, never the one vacuumd remembers. It can be above the feed's (the
   * tombstone came back by migration) or below it (a recovery dropped the record and it was
   * re-created and deleted again): StoreTombstone must place an exact copy of the current
   * tombstone, never one with a higher rsn that would win the next merge (§4.3a, §5.3), and
   * PurgeIfUnchanged checks that very rsn. The item's own rsn only names the item.
   */
  private readonly rsnNow = new Map<PendingItem, number>();
  private frozen = false;
  step: BatchStep = 'plan';
  private items: readonly PendingItem[] = [];
  private generation = 0;
  private toLmaster: PendingItem[] = [];
  private localPurge: PendingItem[] = [];
  private cluster: PendingItem[] = [];

  constructor(private readonly req: DbdRequests, private readonly dbId: number, private readonly log: Logger, private readonly done: (r: BatchResult) => void) {}

  run(items: readonly PendingItem[]): void {
    this.items = items;
    this.step = 'plan';
    this.req.vacuumPlan(this.dbId, this.keysOf(items), (r) => this.onPlan(r));
  }

  private onPlan(r: DbdReply<PlanReply>): void {
    const plan = this.answer(this.items, 'plan', r);
    if (plan === undefined) return this.finish();
    if (plan.frozen) {
      for (const it of this.items) this.settle(it, 'retried', 'frozen', false);
      this.frozen = true;
      return this.finish();
    }
    if (plan.routes.length !== this.items.length) {
      for (const it of this.items) this.settle(it, 'failed', 'plan-length', true);
      this.log.error({ db: this.dbId, keys: this.items.length, routes: plan.routes.length }, 'VacuumPlanReply with a wrong number of routes');
      return this.finish();
    }
    this.generation = plan.generation;
    this.items.forEach((it, i) => this.route(it, plan.routes[i]!, plan.rsns[i] ?? 0));
    this.migrate();
  }

  private route(it: PendingItem, route: VacuumRoute, rsn: number): void {
    this.rsnNow.set(it, rsn);
    switch (route) {
      case VacuumRoute.VACUUM_ROUTE_GONE: return this.settle(it, 'dropped', 'gone', false);
      case VacuumRoute.VACUUM_ROUTE_RECREATED: return this.settle(it, 'dropped', 'recreated', false);
      case VacuumRoute.VACUUM_ROUTE_NOT_DMASTER: return this.settle(it, 'dropped', 'not-dmaster', false);
      case VacuumRoute.VACUUM_ROUTE_BUSY: return this.settle(it, 'retried', 'busy', true);
      case VacuumRoute.VACUUM_ROUTE_TO_LMASTER: return void this.toLmaster.push(it);
      case VacuumRoute.VACUUM_ROUTE_LOCAL_PURGE: return void this.localPurge.push(it);
      case VacuumRoute.VACUUM_ROUTE_CLUSTER: return void this.cluster.push(it);
      case VacuumRoute.VACUUM_ROUTE_UNSPECIFIED: return this.settle(it, 'failed', 'no-route', true);
      // A route this build does not know (a newer dbd): keep the item, never guess.
      default: return this.settle(it, 'failed', 'unknown-route', true);
    }
  }

  private migrate(): void {
    const items = this.toLmaster;
    if (items.length === 0) return this.purgeLocal();
    this.step = 'migrate';
    this.req.migrateToLmaster(this.dbId, this.keysOf(items), (r) => {
      const migrated = this.answer(items, 'migrate', r);
      if (migrated !== undefined) {
        items.forEach((it, i) => (migrated[i] === true ? this.settle(it, 'migrated', 'to-lmaster', false) : this.settle(it, 'retried', 'not-migrated', true)));
      }
      this.purgeLocal();
    });
  }

  private purgeLocal(): void {
    this.purge(this.localPurge, 'local-purge', 'local', () => this.storeTombstones());
  }

  /** PurgeIfUnchanged with the generation of the plan; then `next`. */
  private purge(items: PendingItem[], step: BatchStep, reason: string, next: () => void): void {
    if (items.length === 0) return next();
    this.step = step;
    this.req.purgeIfUnchanged(this.dbId, this.generation, this.keysOf(items), (r) => {
      const purged = this.answer(items, 'purge', r);
      if (purged !== undefined) {
        items.forEach((it, i) => (purged[i] === true ? this.settle(it, 'purged', reason, false) : this.settle(it, 'retried', 'purge-refused', true)));
      }
      next();
    });
  }

  /** §4.3a StoreTombstone on every member. */
  private storeTombstones(): void {
    if (this.cluster.length === 0) return this.finish();
    this.step = 'store';
    this.phase(this.cluster, VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE, storeOk, recreated, 'store', (stored) => {
      if (stored.length === 0) return this.finish();
      // After StoreTombstone every answer other than DELETED/ABSENT is retried: the next plan
      // decides afresh (RECREATED or NOT_DMASTER then drop the item). §4.3b, then §4.4 purge.
      this.step = 'try-delete';
      this.phase(stored, VacuumPhase.VACUUM_PHASE_TRY_DELETE, deleteOk, new Set(), 'try-delete', (deleted) => {
        this.purge(deleted, 'cluster-purge', 'cluster', () => this.finish());
      });
    });
  }

  /** Runs one remote phase; settles the items that must drop or retry, hands on those that passed. */
  private phase(items: PendingItem[], phase: VacuumPhase, ok: ReadonlySet<VacuumResult>, dropOn: ReadonlySet<VacuumResult>, what: string, next: (passed: PendingItem[]) => void): void {
    this.req.vacuumRemote(this.dbId, phase, this.keysOf(items), (r) => {
      const nodes = this.answer(items, what, r);
      const passed: PendingItem[] = [];
      items.forEach((it, i) => {
        if (nodes === undefined) return; // settled by answer()
        const v = verdictFor(nodes, i, ok, dropOn);
        if (v === 'ok') passed.push(it);
        else if (v === 'drop') this.settle(it, 'dropped', 'newer', false);
        else this.settle(it, 'retried', `${what}-not-all`, true);
      });
      next(passed);
    });
  }

  /** A step's answer; on failure settles every item of the step (frozen: wait for the thaw). */
  private answer<T>(items: readonly PendingItem[], what: string, r: DbdReply<T>): T | undefined {
    if (r.ok) return r.value;
    const frozen = r.err.frozen;
    if (frozen) this.frozen = true;
    for (const it of items) this.settle(it, frozen ? 'retried' : 'failed', frozen ? 'frozen' : `${what}-error`, !frozen);
    if (!frozen) this.log.warn({ db: this.dbId, step: what, keys: items.length, err: String(r.err) }, 'vacuum request to dbd failed');
    return undefined;
  }

  private keysOf(items: readonly PendingItem[]): VacuumKey[] {
    return items.map((it) => ({ key: it.key, rsn: this.rsnNow.get(it) ?? it.rsn }));
  }

  private settle(item: PendingItem, outcome: Outcome, reason: string, backoff: boolean): void {
    this.outcomes.push({ item, outcome, reason, backoff });
  }

  private finish(): void {
    this.step = 'done';
    this.done({ outcomes: this.outcomes, frozen: this.frozen });
  }
}
