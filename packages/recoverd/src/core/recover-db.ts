// Step 2 of a recovery for one db (DESIGN §5.3.2): pull every participant's copy in pages, merge
// (volatile) or choose the newest whole copy (persistent), push the result to every participant
// (PushDbStart → PushDbBatch… → PushDbCommit, which dbd applies as one SQLite transaction).
import { assert } from '@ctdbng/common';
import { ErrorCode, frameBytesMax, type BodyOf } from '@ctdbng/protocol';
import { control, ControlError, everyNode } from './control.js';
import type { DbdRpc, PulledRecord } from './io.js';
import { Merger, type MergedRecord } from './merge.js';
import { countingHolders, type FreezeReply } from './zombie-guard.js';

export interface DbInfo {
  dbId: number;
  name: string;
  persistent: boolean;
  /** Participants that have the db attached: only they are pulled from; PushDbStart attaches it on the others. */
  holders: number[];
}

/** Records asked for per PullDb page. */
export const pullRecordsMax = 10_000;
/** Pages pulled from one node for one db at most (10^9 records): a bound on the pull loop. */
export const pullPagesMax = 100_000;
/** Records and bytes (key + data) per PushDbBatch; half a frame leaves room for headers. */
export const pushRecordsMax = 10_000;
export const pushBytesMax = frameBytesMax / 2;

/** The record holding a persistent db's sequence number (§3). */
export const seqnumKey = Buffer.from('__db_sequence_number__', 'utf8');

export interface DbStepContext {
  rpc: DbdRpc;
  term: number;
  leader: number;
  /** The generation being installed. */
  generation: number;
  /** The freeze replies of every participant: they decide whose copies count (§5.4). */
  replies: readonly FreezeReply[];
  /** G_max: the highest generation any participant installed. */
  gMax: number;
  /** Every participant (pushed to), and the members among them (pushed the records). */
  participants: readonly number[];
  members: ReadonlySet<number>;
  timeoutMs: number;
}

export interface DbOutcome {
  failures: ControlError[];
  records: number;
  contributors: number[];
}

type Page = BodyOf<'pullDbReply'>;

/** Pulls pages of `db` from `pnn`, handing each to `onPage`; `onPage` returns false to stop. */
async function pull(c: DbStepContext, pnn: number, db: DbInfo, onPage: (p: Page) => boolean): Promise<void> {
  let after: Uint8Array | undefined;
  for (let pages = 0; pages < pullPagesMax; pages++) {
    const body = { pullDb: { term: c.term, generation: c.generation, dbId: db.dbId, afterKey: after ?? new Uint8Array(0), hasAfter: after !== undefined, recordsMax: pullRecordsMax } };
    const page = await control(c.rpc, pnn, 'pull', body, 'pullDbReply', c.timeoutMs);
    if (!onPage(page) || page.done) return;
    // A page that is empty but not done would loop forever: the node's answer is wrong.
    if (page.records.length === 0) throw new ControlError(pnn, 'pull', ErrorCode.ERR_BAD_MESSAGE, `node ${pnn} answered an empty PullDb page of ${db.name} that is not done`);
    after = page.lastKey;
  }
  throw new ControlError(pnn, 'pull', ErrorCode.ERR_TOO_LARGE, `pull of ${db.name} from node ${pnn} passed ${pullPagesMax} pages`);
}

function copyOf(r: PulledRecord, from: number): { key: Uint8Array; rsn: number; dmaster: number; flags: number; data: Uint8Array; from: number } {
  return { key: r.key ?? new Uint8Array(0), rsn: Number(r.header?.rsn ?? 0), dmaster: r.header?.dmaster ?? 0, flags: r.header?.flags ?? 0, data: r.data ?? new Uint8Array(0), from };
}

async function mergeVolatile(c: DbStepContext, db: DbInfo): Promise<{ records: MergedRecord[]; failures: ControlError[]; contributors: number[] }> {
  const merger = new Merger(c.leader);
  // Only the copies that count (§5.4), as the freeze replies said: nothing else is pulled.
  const contributors = countingHolders(c.replies, db.dbId, c.gMax).filter((p) => db.holders.includes(p));
  const { failures } = await everyNode(contributors, (pnn) =>
    pull(c, pnn, db, (page) => {
      for (const r of page.records) merger.add(copyOf(r, pnn));
      return true;
    }),
  );
  return { records: merger.result(), failures, contributors };
}

/** A persistent copy's sequence number and the commit that set it (8 bytes LE seqnum, then the commit id). */
export interface SeqnumInfo {
  pnn: number;
  seqnum: bigint;
  commitId: string;
}

export function parseSeqnum(pnn: number, data: Uint8Array | undefined): SeqnumInfo {
  if (data === undefined || data.length < 8) return { pnn, seqnum: 0n, commitId: '' };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { pnn, seqnum: buf.readBigUInt64LE(0), commitId: buf.subarray(8).toString('hex') };
}

/**
 * The participant whose persistent copy is pushed (§5.3.2): the highest seqnum; on a tie between
 * different commit ids, the one held by more participants, then the higher commit id; among
 * identical copies the lowest pnn.
 */
export function choosePersistentSource(copies: readonly SeqnumInfo[]): number {
  assert(copies.length > 0, 'persistent recovery without copies');
  const holders = new Map<string, number>();
  for (const c of copies) holders.set(`${c.seqnum}/${c.commitId}`, (holders.get(`${c.seqnum}/${c.commitId}`) ?? 0) + 1);
  const better = (a: SeqnumInfo, b: SeqnumInfo): boolean => {
    if (a.seqnum !== b.seqnum) return a.seqnum > b.seqnum;
    const ha = holders.get(`${a.seqnum}/${a.commitId}`)!;
    const hb = holders.get(`${b.seqnum}/${b.commitId}`)!;
    if (ha !== hb) return ha > hb;
    if (a.commitId !== b.commitId) return a.commitId > b.commitId;
    return a.pnn < b.pnn;
  };
  let best = copies[0]!;
  for (const c of copies) if (better(c, best)) best = c;
  return best.pnn;
}

async function choosePersistent(c: DbStepContext, db: DbInfo): Promise<{ records: MergedRecord[]; failures: ControlError[]; contributors: number[] }> {
  const byNode = new Map<number, MergedRecord[]>();
  const { failures } = await everyNode(db.holders, async (pnn) => {
    const recs: MergedRecord[] = [];
    await pull(c, pnn, db, (page) => {
      for (const r of page.records) {
        const x = copyOf(r, pnn);
        recs.push({ key: x.key, rsn: x.rsn, dmaster: x.dmaster, flags: x.flags, data: x.data });
      }
      return true;
    });
    byNode.set(pnn, recs);
  });
  if (failures.length > 0 || byNode.size === 0) return { records: [], failures, contributors: [] };
  const infos = [...byNode].map(([pnn, recs]) => parseSeqnum(pnn, recs.find((r) => Buffer.from(r.key).equals(seqnumKey))?.data));
  const source = choosePersistentSource(infos);
  return { records: byNode.get(source)!, failures, contributors: [source] };
}

/** Splits records into push batches bounded in count and bytes (at least one record each). */
export function* pushBatches(records: readonly MergedRecord[]): Generator<MergedRecord[]> {
  let batch: MergedRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = r.key.length + r.data.length;
    if (batch.length > 0 && (batch.length >= pushRecordsMax || bytes + size > pushBytesMax)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** Pushes the records to a member, an empty copy to a witness (it holds no records, §1). */
async function push(c: DbStepContext, pnn: number, db: DbInfo, pushId: number, records: readonly MergedRecord[]): Promise<void> {
  const member = c.members.has(pnn);
  await control(c.rpc, pnn, 'push', { pushDbStart: { term: c.term, pushId, dbId: db.dbId, name: db.name, persistent: db.persistent, generation: c.generation, member } }, 'ok', c.timeoutMs);
  for (const batch of member ? pushBatches(records) : []) {
    const wire = batch.map((r) => ({ key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, data: r.data }));
    await control(c.rpc, pnn, 'push', { pushDbBatch: { term: c.term, pushId, records: wire } }, 'ok', c.timeoutMs);
  }
  await control(c.rpc, pnn, 'push', { pushDbCommit: { term: c.term, pushId, generation: c.generation } }, 'ok', c.timeoutMs);
}

/** Recovers one db on every participant; failures name the nodes to blame. */
export async function recoverDb(c: DbStepContext, db: DbInfo, pushId: number): Promise<DbOutcome> {
  const pulled = db.persistent ? await choosePersistent(c, db) : await mergeVolatile(c, db);
  if (pulled.failures.length > 0) return { failures: pulled.failures, records: 0, contributors: pulled.contributors };
  const { failures } = await everyNode(c.participants, (pnn) => push(c, pnn, db, pushId, pulled.records));
  return { failures, records: pulled.records.length, contributors: pulled.contributors };
}
