// `uptime` in ctdb's format (ctdb/tools/ctdb.c control_uptime): current time, start time and the
// time of the last recovery with "(DDD HH:MM:SS)" ago, and the duration of the last recovery.
// What dbd does not know is printed as "-", never guessed: dbd fills recovery_started_unix_ms of
// NodeState only once it records when a recovery starts (it does not yet), and last_recovery_ms
// only on the node whose recoverd led the recovery (followers send 0: "unknown").
import { lines } from './nodes.js';

export interface UptimeView {
  pnn: number;
  nowUnixMs: number;
  uptimeMs: number;
  /** When the last recovery finished; undefined when unknown (printed "-"). */
  lastRecoveryEndUnixMs: number | undefined;
  /** 0 when unknown (printed "-"): recoverd reports at least 1 ms for a recovery it ran. */
  lastRecoveryDurationMs: number;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** C's ctime() without its newline, in local time: "Thu Nov 28 05:50:07 2024". */
export function ctime(unixMs: number): string {
  const d = new Date(unixMs);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${time} ${d.getFullYear()}`;
}

/** "(DDD HH:MM:SS)" of a span in whole seconds. */
export function span(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const secs = s % 60;
  s = Math.floor(s / 60);
  const mins = s % 60;
  s = Math.floor(s / 60);
  const hours = s % 24;
  return `(${String(Math.floor(s / 24)).padStart(3, '0')} ${two(hours)}:${two(mins)}:${two(secs)})`;
}

export function uptimeText(u: UptimeView): string {
  const startUnixMs = u.nowUnixMs - u.uptimeMs;
  const recovered = u.lastRecoveryEndUnixMs;
  const duration = u.lastRecoveryDurationMs > 0 ? `${(u.lastRecoveryDurationMs / 1000).toFixed(6)} seconds` : '-';
  return lines([
    `Current time of node ${String(u.pnn).padEnd(4)}     :                ${ctime(u.nowUnixMs)}`,
    `Ctdbd start time              : ${span(u.uptimeMs)} ${ctime(startUnixMs)}`,
    `Time of last recovery/failover: ${recovered === undefined ? '-' : `${span(u.nowUnixMs - recovered)} ${ctime(recovered)}`}`,
    `Duration of last recovery/failover: ${duration}`,
  ]);
}

export function uptimeJson(u: UptimeView): { pnn: number; uptimeMs: number; lastRecoveryDurationMs: number } {
  return { pnn: u.pnn, uptimeMs: u.uptimeMs, lastRecoveryDurationMs: u.lastRecoveryDurationMs };
}
