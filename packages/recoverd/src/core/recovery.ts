// The recovery (DESIGN §5.3), run by the leader:
//   0. re-check: still leader in the same term, own node eligible, a majority visible (§5.2);
//   1. Freeze{term, generation} to every participant (the connected nodes, witnesses included);
//      the replies decide the quorum (§1: a majority of the nodes file, amnesiac nodes not
//      counted), the vnnmap (the participants able to hold records) and G_max (§5.4);
//   2. per db, several at a time: pull the copies that count, merge, push (recover-db.ts);
//   3. InstallGeneration{term, generation, vnnmap, participants, leader} to all; only when all
//      have it, Thaw{term, generation} to all — after SharedAccessLease + LeaseDriftMargin (as
//      the nodes read them now) when a node of the nodes file was not frozen: its dbd may still
//      serve shared access until its lease ends (§2.2).
// A step failing on a node blames that node; the caller counts it (banning.ts) and starts over
// with a new generation. ERR_STALE_TERM from any node means a newer leader: abort, step down.
import { generationText, type Logger } from '@ctdbng/common';
import { ControlError, control, everyNode } from './control.js';
import type { DbdRpc } from './io.js';
import { canBeMember, hasQuorum } from './monitor.js';
import { recoverDb, type DbInfo } from './recover-db.js';
import { highestInstalled, type FreezeReply } from './zombie-guard.js';

/** Dbs recovered at once. */
export const dbsInParallelMax = 4;
/** Dbs per recovery at most (push ids are seq × 2^16 + index, below 2^53). */
export const dbsMax = 0xffff;

export interface RecoveryTunables {
  recoveryTimeoutMs: number;
  recoveryDrainTimeoutMs: number;
}

export interface RecoveryInput {
  rpc: DbdRpc;
  log: Logger;
  tunables: RecoveryTunables;
  leader: number;
  term: number;
  /** The new generation (term × 2^32 + seq), above every one this leader made. */
  generation: number;
  /** Connected nodes (witnesses included), sorted: each is frozen and installs the generation. */
  participants: readonly number[];
  /**
   * Participants that can only be witnesses (stopped, banned, inactive, configured so): one that
   * fails its freeze is left out rather than failing the recovery, as long as a quorum remains —
   * a banned node that cannot even be frozen must not keep the cluster from recovering.
   */
  optional: ReadonlySet<number>;
  /** Non-deleted lines of the nodes file: what a quorum is a majority of. */
  nodesCount: number;
  nowMs(): number;
  delay(ms: number): Promise<void>;
  /** A reason not to (go on) recover(ing), or undefined. Asked before the freeze and between steps. */
  recheck(): string | undefined;
}

export type RecoveryResult =
  | { ok: true; generation: number; durationMs: number; dbs: number; vnnmap: number[]; participants: number[] }
  | { ok: false; reason: string; blame: number[]; staleTerm: boolean; aborted: boolean; noQuorum: boolean; durationMs: number };

class StepFailed extends Error {
  override readonly name = 'StepFailed';
  constructor(readonly step: string, readonly failures: ControlError[]) {
    super(`${step} failed on node(s) ${[...new Set(failures.map((f) => f.pnn))].join(',')}: ${failures[0]?.message ?? ''}`);
  }
}

class Aborted extends Error {
  override readonly name = 'Aborted';
  constructor(message: string, readonly noQuorum = false) {
    super(message);
  }
}

async function step<T>(name: string, pnns: readonly number[], fn: (pnn: number) => Promise<T>): Promise<Map<number, T>> {
  const { results, failures } = await everyNode(pnns, fn);
  if (failures.length > 0) throw new StepFailed(name, failures);
  return results;
}

/**
 * A step on every frozen participant. A witness that fails it (a banned node, say) is left out
 * of the steps after, rather than failing the recovery for ever: it stays frozen for this
 * generation and so acks no probe of an older one. A member that fails it fails the recovery.
 */
async function stepWitnessesOptional(r: RecoveryInput, f: Frozen, name: string, fn: (pnn: number) => Promise<unknown>): Promise<void> {
  const { failures } = await everyNode(f.participants, fn);
  const fatal = failures.filter((x) => f.vnnmap.includes(x.pnn) || x.staleTerm);
  if (fatal.length > 0) throw new StepFailed(name, fatal);
  for (const x of failures) r.log.warn({ node: x.pnn, step: name, err: x.message }, 'witness left out of the rest of this recovery');
  f.participants = f.participants.filter((p) => !failures.some((x) => x.pnn === p));
}

/** The union of the participants' dbs (GetDbMap gives the persistent flag the freeze reply lacks). */
async function listDbs(r: RecoveryInput, participants: readonly number[]): Promise<DbInfo[]> {
  const maps = await step('getdbmap', participants, (pnn) => control(r.rpc, pnn, 'getdbmap', { getDbMap: {} }, 'dbMap', r.tunables.recoveryTimeoutMs));
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

interface Frozen {
  /** The participants frozen, sorted: everything after the freeze goes to them. */
  participants: number[];
  replies: FreezeReply[];
  gMax: number;
  vnnmap: number[];
  /** When the last freeze reply came: the start of the lease wait. */
  atMs: number;
}

/** Step 1: freeze everyone, then decide quorum, vnnmap and G_max from the replies only. */
async function freezeAll(r: RecoveryInput): Promise<Frozen> {
  const freezeMs = r.tunables.recoveryDrainTimeoutMs + r.tunables.recoveryTimeoutMs;
  const { results, failures } = await everyNode(r.participants, (pnn) => control(r.rpc, pnn, 'freeze', { freeze: { term: r.term, generation: r.generation } }, 'freezeReply', freezeMs));
  const atMs = r.nowMs();
  const fatal = failures.filter((f) => !r.optional.has(f.pnn) || f.staleTerm);
  if (fatal.length > 0) throw new StepFailed('freeze', fatal);
  for (const f of failures) r.log.warn({ node: f.pnn, err: f.message }, 'witness not frozen: left out of this recovery');
  const participants = r.participants.filter((p) => results.has(p));
  const replies = participants.map((p) => results.get(p)!);
  if (!hasQuorum(replies, r.nodesCount)) {
    const counted = replies.filter((x) => !x.amnesiac).map((x) => x.pnn);
    throw new Aborted(`no quorum: ${counted.length} of ${r.nodesCount} nodes count (${counted.join(',') || 'none'})`, true);
  }
  const vnnmap = replies.filter((x) => canBeMember(x)).map((x) => x.pnn).sort((a, b) => a - b);
  if (!vnnmap.includes(r.leader)) throw new Aborted('own node is not eligible');
  return { participants, replies, gMax: highestInstalled(replies), vnnmap, atMs };
}

async function recoverAllDbs(r: RecoveryInput, f: Frozen, dbs: readonly DbInfo[]): Promise<void> {
  const ctx = {
    rpc: r.rpc, term: r.term, leader: r.leader, generation: r.generation, replies: f.replies, gMax: f.gMax,
    participants: f.participants, members: new Set(f.vnnmap), timeoutMs: r.tunables.recoveryTimeoutMs,
  };
  let next = 0;
  const failures: ControlError[] = [];
  const pushBase = (r.generation % 2 ** 32) * 0x10000;
  const worker = async (): Promise<void> => {
    while (next < dbs.length && failures.length === 0) {
      const index = next++;
      const db = dbs[index]!;
      const out = await recoverDb(ctx, db, pushBase + index);
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

/** Before a thaw when a node of the nodes file was not frozen (§2.2): its lease may still run. */
function leaseWaitMs(r: RecoveryInput, f: Frozen): number {
  if (f.participants.length >= r.nodesCount) return 0;
  const leaseMs = Math.max(...f.replies.map((x) => x.sharedAccessLeaseMs + x.leaseDriftMarginMs));
  return Math.max(0, f.atMs + leaseMs - r.nowMs());
}

export async function runRecovery(r: RecoveryInput): Promise<RecoveryResult> {
  const startMs = r.nowMs();
  const log = r.log.child({ generation: generationText(r.generation), term: r.term });
  try {
    checkStill(r);
    log.info({ participants: r.participants }, 'recovery started');
    const f = await freezeAll(r);
    // No participant acks a probe of the replaced generation from here on (§2.2).
    const stepsMs: Record<string, number> = { freeze: f.atMs - startMs };
    checkStill(r);
    const dbs = await listDbs(r, f.participants);
    if (dbs.length > dbsMax) throw new Aborted(`${dbs.length} dbs exceed ${dbsMax}`);
    await recoverAllDbs(r, f, dbs);
    stepsMs['dbs'] = r.nowMs() - f.atMs;
    checkStill(r);
    const participants = f.replies.map((x) => ({ pnn: x.pnn, incarnation: x.incarnation }));
    const install = { installGeneration: { term: r.term, generation: r.generation, pnns: f.vnnmap, participants, leader: r.leader } };
    await stepWitnessesOptional(r, f, 'install', (pnn) => control(r.rpc, pnn, 'install', install, 'ok', r.tunables.recoveryTimeoutMs));
    stepsMs['install'] = r.nowMs() - startMs - stepsMs['freeze']! - stepsMs['dbs']!;
    const waitMs = leaseWaitMs(r, f);
    if (waitMs > 0) {
      log.info({ participants: f.participants, waitMs }, 'waiting out the shared access lease of nodes not frozen');
      await r.delay(waitMs);
    }
    checkStill(r);
    const recoveryMs = r.nowMs() - startMs;
    await stepWitnessesOptional(r, f, 'thaw', (pnn) => control(r.rpc, pnn, 'thaw', { thaw: { term: r.term, generation: r.generation, recoveryMs } }, 'ok', r.tunables.recoveryTimeoutMs));
    const durationMs = r.nowMs() - startMs;
    stepsMs['thaw'] = r.nowMs() - startMs - recoveryMs;
    log.info({ durationMs, dbs: dbs.length, vnnmap: f.vnnmap, gMax: generationText(f.gMax), stepsMs }, 'recovery done');
    return { ok: true, generation: r.generation, durationMs, dbs: dbs.length, vnnmap: f.vnnmap, participants: f.participants };
  } catch (err) {
    const durationMs = r.nowMs() - startMs;
    if (err instanceof Aborted) {
      log.warn({ reason: err.message }, 'recovery aborted');
      return { ok: false, reason: err.message, blame: [], staleTerm: false, aborted: true, noQuorum: err.noQuorum, durationMs };
    }
    if (err instanceof StepFailed) {
      const staleTerm = err.failures.some((f) => f.staleTerm);
      const blame = staleTerm ? [] : [...new Set(err.failures.map((f) => f.pnn))].sort((a, b) => a - b);
      log.warn({ step: err.step, blame, staleTerm, err: err.message }, 'recovery failed');
      return { ok: false, reason: err.message, blame, staleTerm, aborted: false, noQuorum: false, durationMs };
    }
    throw err;
  }
}
