// Step 2 of a recovery for one db (DESIGN §5.3.2), a small state machine of its own:
//   pull  every counting copy (volatile) or every holder's copy (persistent), in pages, one page
//         in flight per node at a time, every node at once; merge (volatile) or choose the
//         newest whole copy (persistent) — once every pull has ended;
//   push  the result to every participant at once: per node PushDbStart → PushDbBatch… →
//         PushDbCommit, one control in flight at a time (dbd applies them as one SQLite
//         transaction); a witness gets an empty push.
// A node that fails is blamed and its sequence ends; the others finish theirs. The db is done
// when every node's sequence has ended; a failed pull means no push.
import type { ReplyResult, RequestId } from '@ctdbng/common';
import { ErrorCode, frameBytesMax, type EnvelopeInit } from '@ctdbng/protocol';
import { ControlError, readAnswer } from './control.js';
import type { PulledRecord, RequestFn } from './io.js';
import { Merger, type MergedRecord } from './merge.js';
import { choosePersistentSource, parseSeqnum, seqnumKey } from './persistent-source.js';
import { countingHolders, type FreezeReply } from './zombie-guard.js';

export { choosePersistentSource, parseSeqnum, seqnumKey, type SeqnumInfo } from './persistent-source.js';

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

export interface DbStepContext {
  request: RequestFn<number>;
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

function recordOf(r: PulledRecord): MergedRecord {
  return { key: r.key ?? new Uint8Array(0), rsn: Number(r.header?.rsn ?? 0), dmaster: r.header?.dmaster ?? 0, flags: r.header?.flags ?? 0, data: r.data ?? new Uint8Array(0) };
}

/** Where one node's pull stands: the key to continue after, pages asked for, and (persistent) its records. */
interface PullCursor {
  after: Uint8Array | undefined;
  pages: number;
  records: MergedRecord[];
}

/** Where one node's push stands: the control in flight. */
type PushCursor = { stage: 'start' } | { stage: 'batch'; index: number } | { stage: 'commit' };

export class DbRecovery {
  private phase: 'pull' | 'push' | 'done' = 'pull';
  /** Every control in flight, and the node it went to: at most one per node. */
  private readonly waiting = new Map<RequestId, number>();
  /** The nodes that failed in the current phase. */
  private readonly failed = new Map<number, ControlError>();
  private readonly pulls = new Map<number, PullCursor>();
  private readonly pushes = new Map<number, PushCursor>();
  private pullFrom: number[] = [];
  private readonly merger: Merger;
  private records: MergedRecord[] = [];
  private batches: MergedRecord[][] = [];
  private contributors: number[] = [];
  outcome: DbOutcome | undefined;

  constructor(private readonly c: DbStepContext, readonly db: DbInfo, private readonly pushId: number) {
    this.merger = new Merger(c.leader);
  }

  get done(): boolean {
    return this.outcome !== undefined;
  }

  start(): void {
    // Volatile: only the copies that count (§5.4), as the freeze replies said; nothing else is
    // pulled. Persistent: every holder's whole copy, to choose from.
    this.pullFrom = this.db.persistent ? [...this.db.holders] : countingHolders(this.c.replies, this.db.dbId, this.c.gMax).filter((p) => this.db.holders.includes(p));
    if (!this.db.persistent) this.contributors = this.pullFrom;
    for (const pnn of this.pullFrom) {
      this.pulls.set(pnn, { after: undefined, pages: 0, records: [] });
      this.requestPage(pnn);
    }
    this.settle();
  }

  /** Takes the answer to one of this db's controls; false when `id` is not one of them. */
  onReply(id: RequestId, result: ReplyResult): boolean {
    const pnn = this.waiting.get(id);
    if (pnn === undefined) return false;
    this.waiting.delete(id);
    if (this.phase === 'pull') this.onPage(pnn, result);
    else this.onPushed(pnn, result);
    this.settle();
    return true;
  }

  private send(pnn: number, body: EnvelopeInit): void {
    this.waiting.set(this.c.request(pnn, body, this.c.timeoutMs), pnn);
  }

  /** Moves on once no control is in flight: from the pull to the push, from the push to done. */
  private settle(): void {
    if (this.waiting.size > 0) return;
    if (this.phase === 'pull') this.pulled();
    else if (this.phase === 'push') this.finish(this.records.length);
  }

  private requestPage(pnn: number): void {
    const cur = this.pulls.get(pnn)!;
    if (cur.pages >= pullPagesMax) {
      this.failed.set(pnn, new ControlError(pnn, 'pull', ErrorCode.ERR_TOO_LARGE, `pull of ${this.db.name} from node ${pnn} passed ${pullPagesMax} pages`));
      return;
    }
    cur.pages += 1;
    const after = cur.after;
    this.send(pnn, { pullDb: { term: this.c.term, generation: this.c.generation, dbId: this.db.dbId, afterKey: after ?? new Uint8Array(0), hasAfter: after !== undefined, recordsMax: pullRecordsMax } });
  }

  private onPage(pnn: number, result: ReplyResult): void {
    const a = readAnswer(pnn, 'pull', result, 'pullDbReply');
    if (!a.ok) {
      this.failed.set(pnn, a.err);
      return;
    }
    const page = a.body;
    const cur = this.pulls.get(pnn)!;
    for (const r of page.records) {
      if (this.db.persistent) cur.records.push(recordOf(r));
      else this.merger.add({ ...recordOf(r), from: pnn });
    }
    if (page.done) return;
    // A page that is empty but not done would loop forever: the node's answer is wrong.
    if (page.records.length === 0) {
      this.failed.set(pnn, new ControlError(pnn, 'pull', ErrorCode.ERR_BAD_MESSAGE, `node ${pnn} answered an empty PullDb page of ${this.db.name} that is not done`));
      return;
    }
    cur.after = page.lastKey;
    this.requestPage(pnn);
  }

  /** Every pull has ended: merge or choose, then push to every participant. */
  private pulled(): void {
    const failures = this.failuresIn(this.pullFrom);
    if (failures.length > 0) {
      this.contributors = this.db.persistent ? [] : this.contributors;
      this.finish(0, failures);
      return;
    }
    if (!this.db.persistent) this.records = this.merger.result();
    else if (this.pullFrom.length > 0) {
      const infos = this.pullFrom.map((pnn) => parseSeqnum(pnn, this.pulls.get(pnn)!.records.find((r) => Buffer.from(r.key).equals(seqnumKey))?.data));
      const source = choosePersistentSource(infos);
      this.records = this.pulls.get(source)!.records;
      this.contributors = [source];
    }
    this.pulls.clear();
    this.batches = [...pushBatches(this.records)];
    this.phase = 'push';
    for (const pnn of this.c.participants) {
      this.pushes.set(pnn, { stage: 'start' });
      this.requestPush(pnn);
    }
    this.settle();
  }

  private requestPush(pnn: number): void {
    const cur = this.pushes.get(pnn)!;
    const { term, generation } = this.c;
    const pushId = this.pushId;
    if (cur.stage === 'start') {
      const member = this.c.members.has(pnn);
      this.send(pnn, { pushDbStart: { term, pushId, dbId: this.db.dbId, name: this.db.name, persistent: this.db.persistent, generation, member } });
    } else if (cur.stage === 'batch') {
      const records = this.batches[cur.index]!.map((r) => ({ key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, data: r.data }));
      this.send(pnn, { pushDbBatch: { term, pushId, records } });
    } else {
      this.send(pnn, { pushDbCommit: { term, pushId, generation } });
    }
  }

  /** The next control of a node's push: the records go to a member only (a witness holds none, §1). */
  private onPushed(pnn: number, result: ReplyResult): void {
    const a = readAnswer(pnn, 'push', result, 'ok');
    if (!a.ok) {
      this.failed.set(pnn, a.err);
      return;
    }
    const cur = this.pushes.get(pnn)!;
    let next: PushCursor | undefined;
    if (cur.stage === 'start') next = this.c.members.has(pnn) && this.batches.length > 0 ? { stage: 'batch', index: 0 } : { stage: 'commit' };
    else if (cur.stage === 'batch') next = cur.index + 1 < this.batches.length ? { stage: 'batch', index: cur.index + 1 } : { stage: 'commit' };
    if (next === undefined) return; // committed: this node is done
    this.pushes.set(pnn, next);
    this.requestPush(pnn);
  }

  private finish(records: number, failures = this.failuresIn(this.c.participants)): void {
    this.phase = 'done';
    this.outcome = { failures, records, contributors: this.contributors };
    this.records = [];
    this.batches = [];
  }

  private failuresIn(pnns: readonly number[]): ControlError[] {
    return pnns.filter((p) => this.failed.has(p)).map((p) => this.failed.get(p)!);
  }
}
