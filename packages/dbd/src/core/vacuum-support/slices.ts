// Vacuum batches in slices (DESIGN §4.7: vacuuming must not disturb clients). A batch is up to
// VacuumBatchSize (1,000) keys; purge, StoreTombstone and TryDelete ran it in one SQLite write
// transaction, MigrateToLmaster in a transaction per key, VacuumPlan in two reads per key, each
// without returning to the event loop: a client request arriving meanwhile waited for all of it
// (p99 of fetch_lock+store+unlock on the ZeroMQ path ~10× idle during a vacuum of 50,000
// tombstones). Now a batch runs sliceKeysMax keys at a time, each slice one transaction, and the
// next slice after the shell's event loop has served what arrived (a 0 ms core timer, which the
// shell runs with setImmediate). Keys are independent of each other; every handler re-checks its
// preconditions (serving, generation, frozen) at each slice, so a slice after a freeze writes
// nothing.
import { InvariantError } from '@ctdbng/common';
import type { Ctx } from '../ctx.js';

/**
 * Keys per slice: ~0.1–0.2 ms of SQLite work on this machine kind, which is also how long a
 * shared-access client may find the file's write lock taken (it retries after 10, 20, 40… µs).
 */
export const sliceKeysMax = 16;
export const sliceTimerPrefix = 'slice';

/**
 * Sliced work in progress. One entry per vacuum request or batch being answered, so it is bounded
 * by theirs (vacuumd's requests in flight, remoteBatchesMax).
 */
export class SlicedWork {
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor(private readonly ctx: Ctx) {}

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Runs slice(from, to) over [0, count) in ranges of at most sliceKeysMax, the first at once and
   * each next one on a later turn of the event loop, then done(). A slice returns false to stop
   * early (its handler has answered the rest itself).
   */
  run(count: number, slice: (from: number, to: number) => boolean, done: () => void): void {
    let from = 0;
    this.repeat(() => {
      const to = Math.min(count, from + sliceKeysMax);
      const goOn = from < count && slice(from, to);
      from = to;
      return goOn && from < count;
    }, done);
  }

  /**
   * Runs step until it returns false (nothing left), one call per turn of the event loop, then
   * done(). A throw from the first call reaches the caller, as from any handler (dbd answers
   * ERR_BUSY or ERR_INTERNAL); from a later one (its request already in progress) it ends the
   * work there and done() answers with what was done — the rest counts as not done, which every
   * vacuum step tolerates (vacuumd plans it again). A broken invariant still ends the daemon.
   */
  repeat(step: () => boolean, done: () => void): void {
    const id = this.nextId++;
    const turn = (first: boolean): void => {
      let more: boolean;
      try {
        more = step();
      } catch (err) {
        if (first || err instanceof InvariantError) throw err;
        this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'vacuum step ended early');
        more = false;
      }
      if (!more) return done();
      this.waiting.set(id, () => turn(false));
      this.ctx.io.setTimer(`${sliceTimerPrefix}:${id}`, 0);
    };
    turn(true);
  }

  onTimer(id: number): void {
    const step = this.waiting.get(id);
    if (step === undefined) return;
    this.waiting.delete(id);
    step();
  }
}
