// The recovery (DESIGN §5.3), run by the leader:
//   0. re-check: still leader in the same term, own node eligible, a majority visible (§5.2);
//   1. a new random nonzero generation; Freeze{term, generation} to every participant;
//   2. per db, several at a time: pull, merge or choose, push (recover-db.ts);
//   3. InstallGeneration{term, generation, participants} to all; only when all have it,
//      Thaw{term, generation} to all — after SharedAccessLease when a member of the replaced
//      generation could not be frozen (its dbd may still serve shared access until its lease ends).
// A step failing on a node blames that node; the caller counts it (banning.ts) and starts over
// with a new generation. ERR_STALE_TERM from any node means a newer leader: abort, step down.
import type { Logger } from '@ctdbng/common';
import { ControlError, control, everyNode } from './control.js';
import type { DbdRpc } from './io.js';
import { recoverDb, type DbInfo } from './recover-db.js';

/** Dbs recovered at once. */
export const dbsInParallelMax = 4;
/** Dbs per recovery at most (push ids are generation × 2^16 + index). */
export const dbsMax = 0xffff;

export interface RecoveryTunables {
  recoveryTimeoutMs: number;
  recoveryDrainTimeoutMs: number;
  sharedAccessLeaseMs: number;
}

export interface RecoveryInput {
  rpc: DbdRpc;
  log: Logger;
  tunables: RecoveryTunables;
  leader: number;
  term: number;
  /** Eligible nodes, sorted: the vnnmap of the new generation. */
  participants: readonly number[];
  /** The generation being replaced (zombie-guard.ts). */
  currentGeneration: number;
  /** Members of the replaced generation that did not answer: wait SharedAccessLease before the thaw. */
  unfrozenMembers: readonly number[];
  random(): number;
  nowMs(): number;
  delay(ms: number): Promise<void>;
  /** A reason not to (go on) recover(ing), or undefined. Asked before the freeze and between steps. */
  recheck(): string | undefined;
}

export type RecoveryResult =
  | { ok: true; generation: number; durationMs: number; dbs: number }
  | { ok: false; reason: string; blame: number[]; staleTerm: boolean; aborted: boolean; durationMs: number };

class StepFailed extends Error {
  override readonly name = 'StepFailed';
  constructor(readonly step: string, readonly failures: ControlError[]) {
    super(`${step} failed on node(s) ${[...new Set(failures.map((f) => f.pnn))].join(',')}: ${failures[0]?.message ?? ''}`);
  }
}

class Aborted extends Error {
  override readonly name = 'Aborted';
}

/** A random nonzero uint32 other than `avoid`. */
export function newGeneration(random: () => number, avoid: number): number {
  for (let tries = 0; tries < 16; tries++) {
    const g = 1 + Math.floor(random() * 0xfffffffe);
    if (g !== avoid) return g;
  }
  return avoid === 1 ? 2 : 1;
}

async function step<T>(name: string, pnns: readonly number[], fn: (pnn: number) => Promise<T>): Promise<Map<number, T>> {
  const { results, failures } = await everyNode(pnns, fn);
  if (failures.length > 0) throw new StepFailed(name, failures);
  return results;
}

/** The union of the participants' dbs (GetDbMap gives the persistent flag NodeState lacks). */
async function listDbs(r: RecoveryInput): Promise<DbInfo[]> {
  const maps = await step('getdbmap', r.participants, (pnn) => control(r.rpc, pnn, 'getdbmap', { getDbMap: {} }, 'dbMap', r.tunables.recoveryTimeoutMs));
  const byId = new Map<number, DbInfo>();
  for (const [pnn, map] of maps) {
    for (const db of map.dbs) {
      const info = { dbId: db.dbId ?? 0, name: db.name ?? '', persistent: db.persistent ?? false, holders: [pnn] };
      const seen = byId.get(info.dbId);
      if (seen === undefined) byId.set(info.dbId, info);
      else if (seen.name === info.name && seen.persistent === info.persistent) seen.holders.push(pnn);
      else {
        // The push of the first kind will be refused by the node that has the other (ERR_DB_CONFLICT).
        r.log.error({ db: info.name, dbId: info.dbId, pnn }, 'db attached with another name or kind on some node');
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.dbId - b.dbId);
}

async function recoverAllDbs(r: RecoveryInput, generation: number, dbs: readonly DbInfo[]): Promise<void> {
  const ctx = { rpc: r.rpc, term: r.term, leader: r.leader, generation, currentGeneration: r.currentGeneration, participants: r.participants, timeoutMs: r.tunables.recoveryTimeoutMs };
  let next = 0;
  const failures: ControlError[] = [];
  const worker = async (): Promise<void> => {
    while (next < dbs.length && failures.length === 0) {
      const index = next++;
      const db = dbs[index]!;
      const out = await recoverDb(ctx, db, generation * 0x10000 + index);
      failures.push(...out.failures);
      r.log.info({ db: db.name, records: out.records, contributors: out.contributors }, out.failures.length === 0 ? 'db recovered' : 'db recovery failed');
    }
  };
  await Promise.all(Array.from({ length: Math.min(dbsInParallelMax, dbs.length) }, worker));
  if (failures.length > 0) throw new StepFailed('pull/push', failures);
}

function checkStill(r: RecoveryInput): void {
  const reason = r.recheck();
  if (reason !== undefined) throw new Aborted(reason);
}

export async function runRecovery(r: RecoveryInput): Promise<RecoveryResult> {
  const startMs = r.nowMs();
  const generation = newGeneration(r.random, r.currentGeneration);
  const log = r.log.child({ generation, term: r.term });
  try {
    checkStill(r);
    log.info({ participants: r.participants, replaces: r.currentGeneration }, 'recovery started');
    const freezeMs = r.tunables.recoveryDrainTimeoutMs + r.tunables.recoveryTimeoutMs;
    await step('freeze', r.participants, (pnn) => control(r.rpc, pnn, 'freeze', { freeze: { term: r.term, generation } }, 'ok', freezeMs));
    // No participant acks a probe of the replaced generation from here on (§2.2).
    const frozenAtMs = r.nowMs();
    const stepsMs: Record<string, number> = { freeze: frozenAtMs - startMs };
    checkStill(r);
    const dbs = await listDbs(r);
    if (dbs.length > dbsMax) throw new Aborted(`${dbs.length} dbs exceed ${dbsMax}`);
    await recoverAllDbs(r, generation, dbs);
    stepsMs['dbs'] = r.nowMs() - frozenAtMs;
    checkStill(r);
    const install = { installGeneration: { term: r.term, generation, pnns: [...r.participants] } };
    await step('install', r.participants, (pnn) => control(r.rpc, pnn, 'install', install, 'ok', r.tunables.recoveryTimeoutMs));
    stepsMs['install'] = r.nowMs() - startMs - stepsMs['freeze']! - stepsMs['dbs']!;
    const leaseLeftMs = frozenAtMs + r.tunables.sharedAccessLeaseMs - r.nowMs();
    if (r.unfrozenMembers.length > 0 && leaseLeftMs > 0) {
      // An unfrozen member's lease was renewed at the latest by acks sent before the freeze.
      log.info({ unfrozen: r.unfrozenMembers, waitMs: leaseLeftMs }, 'waiting out the shared access lease of unfrozen members');
      await r.delay(leaseLeftMs);
    }
    checkStill(r);
    const recoveryMs = r.nowMs() - startMs;
    await step('thaw', r.participants, (pnn) => control(r.rpc, pnn, 'thaw', { thaw: { term: r.term, generation, recoveryMs } }, 'ok', r.tunables.recoveryTimeoutMs));
    const durationMs = r.nowMs() - startMs;
    stepsMs['thaw'] = r.nowMs() - startMs - recoveryMs;
    log.info({ durationMs, dbs: dbs.length, stepsMs }, 'recovery done');
    return { ok: true, generation, durationMs, dbs: dbs.length };
  } catch (err) {
    const durationMs = r.nowMs() - startMs;
    if (err instanceof Aborted) {
      log.warn({ reason: err.message }, 'recovery aborted');
      return { ok: false, reason: err.message, blame: [], staleTerm: false, aborted: true, durationMs };
    }
    if (err instanceof StepFailed) {
      const staleTerm = err.failures.some((f) => f.staleTerm);
      const blame = staleTerm ? [] : [...new Set(err.failures.map((f) => f.pnn))].sort((a, b) => a - b);
      log.warn({ step: err.step, blame, staleTerm, err: err.message }, 'recovery failed');
      return { ok: false, reason: err.message, blame, staleTerm, aborted: false, durationMs };
    }
    throw err;
  }
}
