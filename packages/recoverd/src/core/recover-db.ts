// Step 2 of a recovery for one db (DESIGN §5.3.2), a small state machine of its own:
//   pull  every counting copy (volatile) or every holder's copy (persistent), in pages, one page
//         in flight per node at a time, every node at once; each page is packed (recovery.proto)
//         and checked on arrival (bounds, count, keys ascending after the previous page), then
//         kept as it came; merge (volatile, merge.ts, in place on the pages) or choose the
//         newest whole copy (persistent) — once every pull has ended;
//   push  the result to every participant at once: per node PushDbStart → PushDbBatch… →
//         PushDbCommit, one control in flight at a time (dbd applies them as one SQLite
//         transaction); the same packed pages go to every member; a witness gets an empty push.
// A node that fails is blamed and its sequence ends; the others finish theirs. The db is done
// when every node's sequence has ended; a failed pull means no push.
import type { ReplyResult, RequestId } from '@ctdbng/common';
import { checkPackedPage, ErrorCode, packedKey, type EnvelopeInit } from '@ctdbng/protocol';
import { ControlError, readAnswer } from './control.js';
import type { RequestFn } from './io.js';
import { PackedMerge, packUnchanged, type MergeOutcome } from './merge.js';
import { choosePersistentSource, findPacked, parseSeqnum, seqnumKey } from './persistent-source.js';
import { countingHolders, type FreezeReply } from './zombie-guard.js';

export { choosePersistentSource, parseSeqnum, seqnumKey, type SeqnumInfo } from './persistent-source.js';
export { pushBytesMax, pushRecordsMax } from './merge.js';

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
  /** The recovery's clock (for the step times of the log). */
  nowMs(): number;
}

export interface DbOutcome {
  failures: ControlError[];
  records: number;
  contributors: number[];
  /** Where the time went: pull (every node's pages in), merge or choice, push (every commit back). */
  stepsMs: { pull: number; merge: number; push: number };
}

/** Where one node's pull stands: the key to continue after, pages asked for, and (persistent) the pages received. */
interface PullCursor {
  after: Uint8Array | undefined;
  pages: number;
  received: Uint8Array[];
  records: number;
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
  /** Volatile: the merge, fed each page as it comes (it runs while the nodes build their next ones). */
  private merge: PackedMerge | undefined;
  /** The push pages (the merge, or the chosen persistent copy) and their record counts. */
  private pushed: MergeOutcome = { pages: [], counts: [], records: 0, copies: 0, keys: 0 };
  private contributors: number[] = [];
  private readonly stepsMs = { pull: 0, merge: 0, push: 0 };
  private phaseStartMs = 0;
  outcome: DbOutcome | undefined;

  constructor(private readonly c: DbStepContext, readonly db: DbInfo, private readonly pushId: number) {}

  get done(): boolean {
    return this.outcome !== undefined;
  }

  start(): void {
    this.phaseStartMs = this.c.nowMs();
    // Volatile: only the copies that count (§5.4), as the freeze replies said; nothing else is
    // pulled. Persistent: every holder's whole copy, to choose from.
    this.pullFrom = this.db.persistent ? [...this.db.holders] : countingHolders(this.c.replies, this.db.dbId, this.c.gMax).filter((p) => this.db.holders.includes(p));
    if (!this.db.persistent) {
      this.contributors = this.pullFrom;
      this.merge = new PackedMerge(this.pullFrom, this.c.leader);
    }
    for (const pnn of this.pullFrom) {
      this.pulls.set(pnn, { after: undefined, pages: 0, received: [], records: 0 });
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
    else if (this.phase === 'push') this.finish(this.pushed.records);
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
    const bad = (why: string): void => {
      this.failed.set(pnn, new ControlError(pnn, 'pull', ErrorCode.ERR_BAD_MESSAGE, `node ${pnn} answered a bad PullDb page of ${this.db.name}: ${why}`));
    };
    // The merge walks every node's pages in key order: a page out of it is refused here.
    if (page.recordCount > pullRecordsMax) return bad(`${page.recordCount} records, more than the ${pullRecordsMax} asked for`);
    const checked = checkPackedPage(page.packedRecords, { records: page.recordCount, ascending: true, ...(cur.after === undefined ? {} : { after: cur.after }) });
    if (!checked.ok) return bad(checked.why);
    if (page.recordCount > 0) {
      const last = packedKey(page.packedRecords, checked.lastOffset);
      if (!Buffer.from(last).equals(page.lastKey)) return bad('last_key is not the key of the last record');
      cur.records += page.recordCount;
      cur.after = last;
    } else if (!page.done) {
      // A page that is empty but not done would loop forever: the node's answer is wrong.
      return bad('an empty page that is not done');
    }
    // The next page first, so that the node builds it while this one is merged.
    if (!page.done) this.requestPage(pnn);
    if (this.merge === undefined) {
      if (page.recordCount > 0) cur.received.push(page.packedRecords);
      return;
    }
    const index = this.pullFrom.indexOf(pnn);
    this.merge.add(index, page.packedRecords, page.recordCount);
    if (page.done) this.merge.end(index);
    this.merge.advance();
  }

  /** Every pull has ended: merge or choose, then push to every participant. */
  private pulled(): void {
    const pulledMs = this.c.nowMs();
    this.stepsMs.pull = pulledMs - this.phaseStartMs;
    const failures = this.failuresIn(this.pullFrom);
    if (failures.length > 0) {
      this.contributors = this.db.persistent ? [] : this.contributors;
      this.finish(0, failures);
      return;
    }
    if (this.merge !== undefined) this.pushed = this.merge.result();
    else if (this.pullFrom.length > 0) {
      const infos = this.pullFrom.map((pnn) => parseSeqnum(pnn, findPacked(this.pulls.get(pnn)!.received, seqnumKey)));
      const source = choosePersistentSource(infos);
      const cur = this.pulls.get(source)!;
      this.pushed = packUnchanged({ from: source, pages: cur.received, records: cur.records });
      this.contributors = [source];
    }
    this.merge = undefined;
    this.pulls.clear();
    this.phaseStartMs = this.c.nowMs();
    this.stepsMs.merge = this.phaseStartMs - pulledMs;
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
      // The same page to every member: packed once by the merge, never re-encoded per node.
      this.send(pnn, { pushDbBatch: { term, pushId, packedRecords: this.pushed.pages[cur.index]!, recordCount: this.pushed.counts[cur.index]! } });
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
    const batches = this.pushed.pages.length;
    if (cur.stage === 'start') next = this.c.members.has(pnn) && batches > 0 ? { stage: 'batch', index: 0 } : { stage: 'commit' };
    else if (cur.stage === 'batch') next = cur.index + 1 < batches ? { stage: 'batch', index: cur.index + 1 } : { stage: 'commit' };
    if (next === undefined) return; // committed: this node is done
    this.pushes.set(pnn, next);
    this.requestPush(pnn);
  }

  private finish(records: number, failures = this.failuresIn(this.c.participants)): void {
    if (this.phase === 'push') this.stepsMs.push = this.c.nowMs() - this.phaseStartMs;
    this.phase = 'done';
    this.outcome = { failures, records, contributors: this.contributors, stepsMs: this.stepsMs };
    this.pushed = { pages: [], counts: [], records: 0, copies: 0, keys: 0 };
  }

  private failuresIn(pnns: readonly number[]): ControlError[] {
    return pnns.filter((p) => this.failed.has(p)).map((p) => this.failed.get(p)!);
  }
}
