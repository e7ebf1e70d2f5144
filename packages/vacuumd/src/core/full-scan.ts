// The full scan (DESIGN §4.1, the safety net): every VacuumFullScanInterval, a local traverse of
// the db (TraverseStart{local: true}: this node's store with headers, tombstones included). Every
// tombstone (empty data) whose dmaster is this node and that is not pending becomes a work item,
// so a deletion the feed missed is still vacuumed. One traverse batch in flight at a time.
import type { CoreClock } from '@ctdbng/common';
import type { DbdReply, TraverseBatch } from './dbd-port.js';
import type { DbdRequests } from './dbd-requests.js';
import type { StateFile } from './state-file.js';

export interface FullScanResult {
  records: number;
  tombstones: number;
  added: number;
}

export interface FullScanDeps {
  req: DbdRequests;
  state: StateFile;
  clock: CoreClock;
}

export class FullScan {
  private readonly out: FullScanResult = { records: 0, tombstones: 0, added: 0 };

  constructor(private readonly d: FullScanDeps, private readonly dbId: number, private readonly pnn: number, private readonly done: (r: DbdReply<FullScanResult>) => void) {}

  start(): void {
    this.d.req.traverseStart(this.dbId, (r) => this.onBatch(r, undefined));
  }

  /** `before`: the batch whose TraverseNext this answers (undefined for TraverseStart). */
  private onBatch(r: DbdReply<TraverseBatch>, before: TraverseBatch | undefined): void {
    if (!r.ok) {
      // A traverse stopped half-way is cancelled first (dbd would end it when idle); its answer
      // does not matter, then the step's error is reported.
      if (before === undefined) return this.done(r);
      this.d.req.traverseCancel(before.traverseId, () => this.done(r));
      return;
    }
    const batch = r.value;
    this.out.records += batch.records.length;
    const ours = batch.records.filter((x) => x.dataBytes === 0 && x.dmaster === this.pnn);
    this.out.tombstones += ours.length;
    try {
      // One transaction per traverse batch: a batch is bounded (1,000 records or 1 MiB, §2.3).
      this.out.added += this.d.state.addIfAbsent(this.dbId, ours.map((x) => ({ key: x.key, rsn: x.rsn })), this.d.clock.nowMs());
    } catch (err) {
      if (batch.done) throw err;
      // The state file failed: cancel the traverse, then fail the pass with that error.
      this.d.req.traverseCancel(batch.traverseId, () => {
        throw err;
      });
      return;
    }
    if (batch.done) return this.done({ ok: true, value: this.out });
    this.d.req.traverseNext(batch.traverseId, (next) => this.onBatch(next, batch));
  }
}
