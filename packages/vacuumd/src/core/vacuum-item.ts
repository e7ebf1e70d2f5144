// One batch of tombstones through the vacuum steps (DESIGN §4.1–4): VacuumPlan routes each key,
// then per route: drop (GONE / RECREATED / NOT_DMASTER), MigrateToLmaster (TO_LMASTER), the local
// purge (LOCAL_PURGE: never migrated with data, no other node has a copy), or the two cluster
// phases (CLUSTER: StoreTombstone then TryDelete on every member, then PurgeIfUnchanged with the
// generation of the plan). Every item ends in exactly one outcome; this file decides which, the
// pass (vacuum-pass.ts) writes it to the state file.
import { InvariantError, type Logger } from '@ctdbng/common';
import { DbdRequestError, VacuumPhase, VacuumResult, VacuumRoute, type Dbd, type NodeResults, type VacuumKey } from './dbd-port.js';
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

  constructor(private readonly dbd: Dbd, private readonly dbId: number, private readonly log: Logger) {}

  async run(items: readonly PendingItem[]): Promise<BatchResult> {
    const plan = await this.request(items, 'plan', () => this.dbd.vacuumPlan(this.dbId, this.keysOf(items)));
    if (plan === undefined) return this.result();
    if (plan.frozen) {
      for (const it of items) this.settle(it, 'retried', 'frozen', false);
      this.frozen = true;
      return this.result();
    }
    if (plan.routes.length !== items.length) {
      for (const it of items) this.settle(it, 'failed', 'plan-length', true);
      this.log.error({ db: this.dbId, keys: items.length, routes: plan.routes.length }, 'VacuumPlanReply with a wrong number of routes');
      return this.result();
    }
    const toLmaster: PendingItem[] = [];
    const localPurge: PendingItem[] = [];
    const cluster: PendingItem[] = [];
    items.forEach((it, i) => {
      const route = plan.routes[i]!;
      this.rsnNow.set(it, plan.rsns[i] ?? 0);
      switch (route) {
        case VacuumRoute.VACUUM_ROUTE_GONE: return this.settle(it, 'dropped', 'gone', false);
        case VacuumRoute.VACUUM_ROUTE_RECREATED: return this.settle(it, 'dropped', 'recreated', false);
        case VacuumRoute.VACUUM_ROUTE_NOT_DMASTER: return this.settle(it, 'dropped', 'not-dmaster', false);
        case VacuumRoute.VACUUM_ROUTE_BUSY: return this.settle(it, 'retried', 'busy', true);
        case VacuumRoute.VACUUM_ROUTE_TO_LMASTER: return void toLmaster.push(it);
        case VacuumRoute.VACUUM_ROUTE_LOCAL_PURGE: return void localPurge.push(it);
        case VacuumRoute.VACUUM_ROUTE_CLUSTER: return void cluster.push(it);
        case VacuumRoute.VACUUM_ROUTE_UNSPECIFIED: return this.settle(it, 'failed', 'no-route', true);
        // A route this build does not know (a newer dbd): keep the item, never guess.
        default: return this.settle(it, 'failed', 'unknown-route', true);
      }
    });
    await this.migrate(toLmaster);
    await this.purge(localPurge, plan.generation, 'local');
    await this.clusterPhases(cluster, plan.generation);
    return this.result();
  }

  private async migrate(items: PendingItem[]): Promise<void> {
    if (items.length === 0) return;
    const migrated = await this.request(items, 'migrate', () => this.dbd.migrateToLmaster(this.dbId, this.keysOf(items)));
    if (migrated === undefined) return;
    items.forEach((it, i) => (migrated[i] === true ? this.settle(it, 'migrated', 'to-lmaster', false) : this.settle(it, 'retried', 'not-migrated', true)));
  }

  private async purge(items: PendingItem[], generation: number, reason: string): Promise<void> {
    if (items.length === 0) return;
    const purged = await this.request(items, 'purge', () => this.dbd.purgeIfUnchanged(this.dbId, generation, this.keysOf(items)));
    if (purged === undefined) return;
    items.forEach((it, i) => (purged[i] === true ? this.settle(it, 'purged', reason, false) : this.settle(it, 'retried', 'purge-refused', true)));
  }

  /** §4.3a StoreTombstone, §4.3b TryDelete on every member, §4.4 purge. */
  private async clusterPhases(items: PendingItem[], generation: number): Promise<void> {
    if (items.length === 0) return;
    const stored = await this.phase(items, VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE, storeOk, recreated, 'store');
    if (stored.length === 0) return;
    // After StoreTombstone every answer other than DELETED/ABSENT is retried: the next plan
    // decides afresh (RECREATED or NOT_DMASTER then drop the item).
    const deleted = await this.phase(stored, VacuumPhase.VACUUM_PHASE_TRY_DELETE, deleteOk, new Set(), 'try-delete');
    await this.purge(deleted, generation, 'cluster');
  }

  /** Runs one remote phase; settles the items that must drop or retry, returns those that passed. */
  private async phase(items: PendingItem[], phase: VacuumPhase, ok: ReadonlySet<VacuumResult>, dropOn: ReadonlySet<VacuumResult>, what: string): Promise<PendingItem[]> {
    const nodes = await this.request(items, what, () => this.dbd.vacuumRemote(this.dbId, phase, this.keysOf(items)));
    if (nodes === undefined) return [];
    const passed: PendingItem[] = [];
    items.forEach((it, i) => {
      const v = verdictFor(nodes, i, ok, dropOn);
      if (v === 'ok') passed.push(it);
      else if (v === 'drop') this.settle(it, 'dropped', 'newer', false);
      else this.settle(it, 'retried', `${what}-not-all`, true);
    });
    return passed;
  }

  /** A request to dbd; on failure settles every item of the step (frozen: wait for the thaw). */
  private async request<T>(items: readonly PendingItem[], what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof InvariantError) throw err;
      const frozen = err instanceof DbdRequestError && err.frozen;
      if (frozen) this.frozen = true;
      for (const it of items) this.settle(it, frozen ? 'retried' : 'failed', frozen ? 'frozen' : `${what}-error`, !frozen);
      if (!frozen) this.log.warn({ db: this.dbId, step: what, keys: items.length, err: String(err) }, 'vacuum request to dbd failed');
      return undefined;
    }
  }

  private keysOf(items: readonly PendingItem[]): VacuumKey[] {
    return items.map((it) => ({ key: it.key, rsn: this.rsnNow.get(it) ?? it.rsn }));
  }

  private settle(item: PendingItem, outcome: Outcome, reason: string, backoff: boolean): void {
    this.outcomes.push({ item, outcome, reason, backoff });
  }

  private result(): BatchResult {
    return { outcomes: this.outcomes, frozen: this.frozen };
  }
}
