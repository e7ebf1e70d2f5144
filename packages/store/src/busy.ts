// SQLite busy handling without blocking the event loop for long (DESIGN §2.2): busy_timeout=0
// and a bounded retry with microsecond backoff; past the bound the caller gets StoreBusyError.
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
}

const busyRetryNsMax = 50_000_000n;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/** Runs fn (one SQLite transaction) and retries it while the file is busy. */
export function retryBusy<T>(fn: () => T): T {
  const start = process.hrtime.bigint();
  let spinNs = 2_000n;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const now = process.hrtime.bigint();
      if (now - start > busyRetryNsMax) throw new StoreBusyError('database file busy for more than 50 ms');
      // A short spin: the other writer's transactions take microseconds.
      const until = now + spinNs;
      while (process.hrtime.bigint() < until) { /* spin */ }
      spinNs = spinNs < 500_000n ? spinNs * 2n : spinNs;
    }
  }
}
