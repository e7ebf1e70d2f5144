// The vacuumd core driven by the real world (DESIGN §12): requests to dbd over the DEALER (their
// answers come back as onReply on a later turn), the core's timers as real timers, wall-clock
// time. Every event goes into the core through guard(): a broken invariant ends the daemon (the
// supervisor restarts it); any other throw is logged and the daemon goes on.
import { ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { InvariantError, Timers, type CoreClock, type Logger, type VacuumPausePoint } from '@ctdbng/common';
import type { VacuumIo, VacuumTimerId } from '../core/dbd-port.js';
import { VacuumNowError, type VacuumNowAnswer } from '../core/pass-scheduler.js';
import { VacuumCore, type VacuumCoreDeps } from '../core/vacuum-core.js';
import { DbdAdapter } from './dbd-adapter.js';
import type { DbdConnection } from './dbd-connection.js';

/**
 * Wall-clock time for the core: the state file keeps next tries and first sightings across
 * restarts (and reboots), which a monotonic clock would not carry over.
 */
export const wallClock: CoreClock = { nowMs: () => Date.now(), nowNs: () => Date.now() * 1_000_000 };

export interface DriverOptions {
  conn: DbdConnection;
  log: Logger;
  /** The core's deps other than its io. */
  deps: Omit<VacuumCoreDeps, 'io'>;
  /** Fault injection: resolves when vacuumd may go on after a remote phase (dbd-adapter.ts). */
  pauseAfter(point: VacuumPausePoint): Promise<void>;
  /** Logs a broken invariant at fatal and exits. */
  fatal(err: InvariantError): void;
}

export class CoreDriver {
  readonly core: VacuumCore;
  private readonly timers: Timers<VacuumTimerId>;

  constructor(private readonly o: DriverOptions) {
    this.timers = new Timers<VacuumTimerId>((id) => this.guard('timer', (c) => c.onTimer(id)));
    const dbd = new DbdAdapter(o.conn, (id, r) => this.guard('reply', (c) => c.onReply(id, r)), o.pauseAfter);
    const io: VacuumIo = {
      request: (body, timeoutMs) => dbd.request(body, timeoutMs),
      setTimer: (id, delayMs) => this.timers.set(id, delayMs),
      cancelTimer: (id) => this.timers.cancel(id),
      clock: wallClock,
    };
    this.core = new VacuumCore({ ...o.deps, io });
  }

  guard(what: string, fn: (c: VacuumCore) => void): void {
    try {
      fn(this.core);
    } catch (err) {
      if (err instanceof InvariantError) return this.o.fatal(err);
      this.o.log.error({ err, event: what }, 'vacuumd core failed');
    }
  }

  /** The control socket's one request: answered when the core's VacuumNow reply comes. */
  serveControl(env: Envelope): Promise<EnvelopeInit> {
    const now = env.vacuumNow;
    if (env.body !== 'vacuumNow' || !now) {
      return Promise.resolve({ error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `vacuumd serves only VacuumNow, not ${env.body ?? 'an empty body'}` } });
    }
    return new Promise((resolve, reject) => {
      const answer = (a: VacuumNowAnswer): void => {
        if (a.ok) resolve({ vacuumNowReply: { dbs: a.dbs } });
        else if (a.error instanceof VacuumNowError) resolve({ error: { code: a.error.code, message: a.error.message } });
        else reject(a.error); // the control socket answers ERR_INTERNAL
      };
      this.guard('vacuumNow', (c) => {
        try {
          c.vacuumNow(now.dbName ?? '', answer);
        } catch (err) {
          reject(err);
          throw err;
        }
      });
    });
  }

  /** Stops the core; resolves when its running batch has finished, or after waitMsMax. */
  stop(waitMsMax: number): Promise<void> {
    // The running batch goes on (its replies and pace timer) until the core says it stopped.
    const stopped = new Promise<void>((resolve) => this.guard('stop', (c) => c.stop(resolve)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMsMax)));
    return Promise.race([stopped, late]).finally(() => {
      clearTimeout(timer);
      this.timers.clear();
    });
  }
}
