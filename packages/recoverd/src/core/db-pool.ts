// Step 2 of a recovery over every db (DESIGN §5.3.2): up to dbsInParallelMax dbs recovered at
// once (recover-db.ts), in db id order. A db that fails stops the pool from starting more; the dbs
// already started finish, then the pool is done.
import type { Logger, ReplyResult, RequestId } from '@ctdbng/common';
import type { ControlError } from './control.js';
import { DbRecovery, type DbInfo, type DbStepContext } from './recover-db.js';

/** Dbs recovered at once. */
export const dbsInParallelMax = 4;

export class DbPool {
  private next = 0;
  private readonly running: DbRecovery[] = [];
  readonly failures: ControlError[] = [];
  private finished = false;

  constructor(
    private readonly ctx: DbStepContext,
    private readonly dbs: readonly DbInfo[],
    /** Push ids are pushBase + the db's index. */
    private readonly pushBase: number,
    private readonly log: Logger,
  ) {}

  /** Every db started has ended, and no other will start. */
  get done(): boolean {
    return this.finished;
  }

  start(): void {
    this.fill();
  }

  /** Takes the answer to one of the pool's controls; false when `id` is not one of them. */
  onReply(id: RequestId, result: ReplyResult): boolean {
    const db = this.running.find((d) => d.onReply(id, result));
    if (db === undefined) return false;
    if (db.done) {
      this.running.splice(this.running.indexOf(db), 1);
      this.ended(db);
      this.fill();
    }
    return true;
  }

  private ended(db: DbRecovery): void {
    const out = db.outcome!;
    this.failures.push(...out.failures);
    this.log.info({ db: db.db.name, records: out.records, contributors: out.contributors }, out.failures.length === 0 ? 'db recovered' : 'db recovery failed');
  }

  /** Starts dbs while a slot is free, there are dbs left and none has failed. */
  private fill(): void {
    while (this.running.length < dbsInParallelMax && this.next < this.dbs.length && this.failures.length === 0) {
      const index = this.next++;
      const db = new DbRecovery(this.ctx, this.dbs[index]!, this.pushBase + index);
      db.start();
      if (db.done) this.ended(db);
      else this.running.push(db);
    }
    if (this.running.length === 0) this.finished = true;
  }
}
