// One pino root per process (STYLE §2): JSON, pretty on a TTY; children carry fields.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export function createLogger(opts: { daemon: string; pnn?: number; level: LogLevel; location: string }): Logger {
  const base = { daemon: opts.daemon, ...(opts.pnn === undefined ? {} : { pnn: opts.pnn }) };
  if (opts.location === 'stderr') {
    if (process.stderr.isTTY) {
      return pino({ level: opts.level, base }, pino.transport({ target: 'pino-pretty', options: { destination: 2 } }));
    }
    return pino({ level: opts.level, base }, pino.destination({ fd: 2, sync: true }));
  }
  return pino({ level: opts.level, base }, pino.destination({ dest: opts.location, mkdir: true, sync: true }));
}

/** A logger that drops everything (unit tests of cores). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
