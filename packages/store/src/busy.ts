// SQLite busy handling without blocking the event loop for long (DESIGN §2.2): busy_timeout=0
// and a bounded retry with microsecond backoff; past the bound the caller gets StoreBusyError.
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
}

/** dbd's bound: it sleeps its event loop no longer (its callers then get ERR_BUSY). A node
 * message that fails this way asks for a recovery, so the bound is generous: only a lock holder
 * descheduled on a loaded machine (a checkpoint, a shared-access client) keeps the file busy. */
export const busyRetryNsMaxDaemon = 500_000_000n;
/** A shared-access client's bound: it waits for its turn, like a blocked lock call would. */
export const busyRetryNsMaxClient = 5_000_000_000n;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Runs fn (one SQLite transaction) and retries it while the file is busy. */
export function retryBusy<T>(fn: () => T, boundNs: bigint = busyRetryNsMaxDaemon): T {
  // The first try is the common case and reads no clock: the bound runs from the first busy
  // answer (a few µs after the call began), which is all a caller can tell apart.
  try {
    return fn();
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
  return retryBusyAfterFirst(fn, boundNs);
}

function retryBusyAfterFirst<T>(fn: () => T, boundNs: bigint): T {
  const start = process.hrtime.bigint();
  let sleepNs = 10_000n;
  for (;;) {
    const now = process.hrtime.bigint();
    if (now - start > boundNs) throw new StoreBusyError(`database file busy for more than ${Number(boundNs / 1_000_000n)} ms`);
    // A short sleep that gives the CPU to the writer holding the lock (on 2 cores a spin
    // would compete with it): Atomics.wait blocks this thread with µs resolution.
    Atomics.wait(sleepCell, 0, 0, Number(sleepNs) / 1e6);
    sleepNs = sleepNs < 1_000_000n ? sleepNs * 2n : sleepNs;
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
    }
  }
}
