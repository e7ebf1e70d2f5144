// The lmaster's two cluster phases (DESIGN §4.3), batched per node and sent to every member:
// STORE_TOMBSTONE (each node replaces its copy by an exact copy of the lmaster's tombstone) and
// TRY_DELETE (each node removes that tombstone). A batch while frozen or of another generation
// is refused whole; a member that does not answer in ControlTimeout is UNREACHABLE. Answers that
// break an invariant — IS_LMASTER (the nodes disagree about the vnnmap), IS_DMASTER or NEWER
// while this node is still the tombstone's dmaster — ask for a recovery (§4.3); vacuumd keeps
// such items and re-plans them after it.
import { ErrorCode, ctdbng, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';
import { brokenInvariant } from '../record-flow/migrate.js';

const Result = ctdbng.v1.VacuumResult;
const Phase = ctdbng.v1.VacuumPhase;
type Reply = (body: EnvelopeInit) => void;
type NodeResults = { pnn: number; results: ctdbng.v1.VacuumResult[]; refusedCode: number };

interface PendingRemote {
  reply: Reply;
  db: DbState;
  keys: ctdbng.v1.IVacuumKey[];
  keyCount: number;
  waiting: Set<number>;
  nodes: NodeResults[];
}

export const remoteBatchesMax = 1024;

export class VacuumRemotes {
  private readonly pending = new Map<number, PendingRemote>();
  private nextId = 1;

  constructor(private readonly ctx: Ctx) {}

  /** vacuumd's request: run one phase for these keys on every other member, answer per node. */
  start(m: BodyOf<'vacuumRemote'>, reply: Reply): void {
    const { ctx } = this;
    const db = ctx.dbs.get(m.dbId);
    if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
    if (!ctx.serving()) return reply({ error: { code: ErrorCode.ERR_FROZEN, message: 'not serving records now (frozen or no lease)' } });
    if (m.phase !== Phase.VACUUM_PHASE_STORE_TOMBSTONE && m.phase !== Phase.VACUUM_PHASE_TRY_DELETE) {
      return reply({ error: { code: ErrorCode.ERR_INVALID_ARGUMENT, message: `unknown vacuum phase ${m.phase}` } });
    }
    if (this.pending.size >= remoteBatchesMax) return reply({ error: { code: ErrorCode.ERR_BUSY, message: 'too many vacuum batches in flight' } });
    const others = ctx.vnn.pnns.filter((p) => p !== ctx.pnn);
    const id = this.nextId++;
    const p: PendingRemote = { reply, db, keys: m.keys, keyCount: m.keys.length, waiting: new Set(), nodes: [] };
    for (const pnn of others) {
      if (!ctx.linksUp.has(pnn)) {
        p.nodes.push(unreachable(pnn, m.keys.length, ErrorCode.ERR_NODE_UNREACHABLE));
        continue;
      }
      p.waiting.add(pnn);
      ctx.sendNode(pnn, { vacuumBatch: { batchId: id, dbId: m.dbId, phase: m.phase, keys: m.keys } });
    }
    if (p.waiting.size === 0) return reply({ vacuumRemoteReply: { nodes: p.nodes } });
    this.pending.set(id, p);
    ctx.io.setTimer(`vacuum:${id}`, ctx.tunables.controlTimeoutMs);
  }

  onReply(from: number, m: BodyOf<'vacuumBatchReply'>): void {
    const id = Number(m.batchId);
    const p = this.pending.get(id);
    if (p === undefined || !p.waiting.delete(from)) return;
    p.nodes.push({ pnn: from, results: [...m.results], refusedCode: m.refusedCode });
    this.checkAnswers(p, from, m.results);
    if (p.waiting.size === 0) this.finish(id, p);
  }

  onTimeout(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    for (const pnn of p.waiting) p.nodes.push(unreachable(pnn, p.keyCount, ErrorCode.ERR_TIMEOUT));
    p.waiting.clear();
    this.finish(id, p);
  }

  /** A member's per-key answers against what this node (lmaster, dmaster of each tombstone) holds. */
  private checkAnswers(p: PendingRemote, from: number, results: readonly ctdbng.v1.VacuumResult[]): void {
    const { ctx } = this;
    results.forEach((r, i) => {
      if (r === Result.VACUUM_RESULT_IS_LMASTER) {
        brokenInvariant(ctx, p.db, 'a member says it is lmaster of a key this node is lmaster of: the vnnmaps differ', { from });
        return;
      }
      if (r !== Result.VACUUM_RESULT_IS_DMASTER && r !== Result.VACUUM_RESULT_NEWER) return;
      const key = p.keys[i]?.key ?? Buffer.alloc(0);
      const rec = p.db.file.records.get(key);
      if (rec !== undefined && rec.dmaster === ctx.pnn) {
        brokenInvariant(ctx, p.db, `a member answered ${Result[r]} for a record this node is still dmaster of`, { from, rsn: rec.rsn });
      }
    });
  }

  private finish(id: number, p: PendingRemote): void {
    this.pending.delete(id);
    this.ctx.io.cancelTimer(`vacuum:${id}`);
    p.reply({ vacuumRemoteReply: { nodes: p.nodes.sort((a, b) => a.pnn - b.pnn) } });
  }
}

function unreachable(pnn: number, n: number, code: number): NodeResults {
  return { pnn, results: new Array<ctdbng.v1.VacuumResult>(n).fill(Result.VACUUM_RESULT_UNREACHABLE), refusedCode: code };
}

/**
 * A member's side of one phase: per-key results, or the whole batch refused. A slice at a time
 * (slices.ts): a freeze or a new generation between two slices refuses the keys not done yet
 * (UNREACHABLE, as a refused batch's), and the lmaster retries them.
 */
export function onVacuumBatch(ctx: Ctx, from: number, generation: number, m: BodyOf<'vacuumBatch'>): void {
  const answer = (results: ctdbng.v1.VacuumResult[], refusedCode = 0): void =>
    ctx.sendNode(from, { vacuumBatchReply: { batchId: m.batchId, results, refusedCode } });
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return answer([], ErrorCode.ERR_UNKNOWN_DB);
  if (ctx.frozen()) return answer([], ErrorCode.ERR_FROZEN);
  if (generation !== ctx.vnn.generation) return answer([], ErrorCode.ERR_WRONG_GENERATION);
  const store = m.phase === Phase.VACUUM_PHASE_STORE_TOMBSTONE;
  const results = new Array<ctdbng.v1.VacuumResult>(m.keys.length).fill(Result.VACUUM_RESULT_UNREACHABLE);
  ctx.slices.run(m.keys.length, (lo, hi) => {
    if (ctx.frozen() || generation !== ctx.vnn.generation) return false;
    db.file.tx(() => {
      for (let i = lo; i < hi; i++) results[i] = memberStep(ctx, db, from, store, m.keys[i]!);
    });
    return true;
  }, () => answer(results));
}

function memberStep(ctx: Ctx, db: DbState, from: number, store: boolean, k: ctdbng.v1.IVacuumKey): ctdbng.v1.VacuumResult {
  const key = Buffer.from(k.key ?? Buffer.alloc(0));
  const rsn = Number(k.rsn);
  if (lmasterOf(key, ctx.vnn.pnns) === ctx.pnn) return Result.VACUUM_RESULT_IS_LMASTER;
  const rec = db.file.records.get(key);
  if (rec === undefined) return Result.VACUUM_RESULT_ABSENT;
  if (rec.dmaster === ctx.pnn) return Result.VACUUM_RESULT_IS_DMASTER;
  if (rec.rsn > rsn) return Result.VACUUM_RESULT_NEWER;
  if (db.file.locks.get(key) !== undefined) return Result.VACUUM_RESULT_LOCKED;
  if (store) {
    // The one case where another node holds a copy with the dmaster's rsn: identical tombstones (§4.3a).
    db.file.records.put(key, { rsn, dmaster: from, flags: RecordFlags.MIGRATED_WITH_DATA }, Buffer.alloc(0));
    return Result.VACUUM_RESULT_STORED;
  }
  db.file.records.remove(key);
  return Result.VACUUM_RESULT_DELETED;
}
