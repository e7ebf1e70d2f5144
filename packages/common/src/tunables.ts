// The one table of tunables (DESIGN §9). Names are CTDB's where the meaning is the same.
// get/set/list walk this table; the README table is generated from it
// (node packages/common/scripts/readme-tunables.mjs, after a build) and a
// test compares them. Relations between tunables are checked whenever a value changes.
import { readFileSync, existsSync } from 'node:fs';

export interface TunableRow {
  /** The name users see (getvar/setvar, ctdbng.tunables). */
  readonly name: string;
  /** The key code reads; the unit is last. */
  readonly key: string;
  readonly unit: 's' | 'ms' | 'count' | 'bytes' | 'bool';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
  readonly obsolete?: boolean;
}

export const TUNABLES = [
  { name: 'LockLeaseSeconds', key: 'lockLeaseSeconds', unit: 's', default: 10, min: 1, max: 3600,
    doc: 'A record lock is a lease: the lock of a client that stops renewing it is broken after this long (within the half-second lock sweep once its pid is seen dead).' },
  { name: 'SharedAccessLease', key: 'sharedAccessLeaseMs', unit: 'ms', default: 1000, min: 100, max: 60_000,
    doc: 'How long acks to a probe from a majority of the nodes file let this node serve records (dbd and shared-access clients alike), counted from when the probe was sent (§2.2).' },
  { name: 'LeaseDriftMargin', key: 'leaseDriftMarginMs', unit: 'ms', default: 100, min: 0, max: 10_000,
    doc: 'Margin for clock drift the leader adds to SharedAccessLease before a thaw when a node of the nodes file was not frozen (§2.2).' },
  { name: 'KeepaliveInterval', key: 'keepaliveIntervalSeconds', unit: 's', default: 5, min: 1, max: 3600,
    doc: 'Seconds between keepalives on a node link.' },
  { name: 'KeepaliveLimit', key: 'keepaliveLimitCount', unit: 'count', default: 5, min: 1, max: 1000,
    doc: 'Keepalive intervals without traffic after which a node link counts as down.' },
  { name: 'RecoverInterval', key: 'recoverIntervalMs', unit: 'ms', default: 1000, min: 50, max: 60_000,
    doc: 'How often the leader checks that node map, flags, vnnmap, generation and dbs agree everywhere (§5.2).' },
  { name: 'RecoveryDrainTimeout', key: 'recoveryDrainTimeoutMs', unit: 'ms', default: 5000, min: 0, max: 600_000,
    doc: 'How long a freeze waits for record locks to be released before it breaks them (§5.3.1).' },
  { name: 'RecoveryTimeout', key: 'recoveryTimeoutMs', unit: 'ms', default: 30_000, min: 100, max: 600_000,
    doc: 'How long one recovery control (freeze, pull page, push batch, thaw) may take before the step fails.' },
  { name: 'RecoveryBanCount', key: 'recoveryBanCount', unit: 'count', default: 3, min: 1, max: 1000,
    doc: 'Recovery steps a node may fail in a row before the leader bans it (§5.3.4).' },
  { name: 'RecoveryBanPeriod', key: 'recoveryBanPeriodSeconds', unit: 's', default: 300, min: 1, max: 86_400,
    doc: 'Seconds a node stays banned.' },
  { name: 'RerecoveryTimeout', key: 'rerecoveryTimeoutMs', unit: 'ms', default: 500, min: 0, max: 600_000,
    doc: 'Least time between the end of one recovery and the start of the next one.' },
  { name: 'LeaderTimeout', key: 'leaderTimeoutMs', unit: 'ms', default: 2000, min: 100, max: 600_000,
    doc: 'A node that hears no leader broadcast for this long starts an election; one that sees no majority this long turns inactive (§5.1).' },
  { name: 'LeaderBroadcastInterval', key: 'leaderBroadcastIntervalMs', unit: 'ms', default: 250, min: 10, max: 60_000,
    doc: 'How often the leader announces itself to every node.' },
  { name: 'ClusterLockTimeout', key: 'clusterLockTimeoutMs', unit: 'ms', default: 5000, min: 100, max: 600_000,
    doc: 'How long a newly elected leader waits for the cluster lock helper to print 0 before giving up leadership.' },
  { name: 'VacuumInterval', key: 'vacuumIntervalSeconds', unit: 's', default: 1, min: 1, max: 3600,
    doc: 'Seconds between vacuum passes over the feed and the retry queue (vacuumd also wakes at once when dbd reports new deletions).' },
  { name: 'VacuumBatchSize', key: 'vacuumBatchSizeCount', unit: 'count', default: 1000, min: 1, max: 100_000,
    doc: 'Tombstones per vacuum batch (one message per node and phase); batches are paced so clients keep their latency.' },
  { name: 'VacuumFullScanInterval', key: 'vacuumFullScanIntervalSeconds', unit: 's', default: 60, min: 1, max: 86_400,
    doc: 'Seconds between full scans of every db for tombstones the feed missed (the safety net, §4.1).' },
  { name: 'VacuumRetryMin', key: 'vacuumRetryMinMs', unit: 'ms', default: 100, min: 1, max: 3_600_000,
    doc: 'First retry delay of a deletion that could not complete (exponential backoff, §4.4).' },
  { name: 'VacuumRetryMax', key: 'vacuumRetryMaxMs', unit: 'ms', default: 10_000, min: 1, max: 3_600_000,
    doc: 'Longest retry delay of a deletion; retries go on until it succeeds.' },
  { name: 'ControlTimeout', key: 'controlTimeoutMs', unit: 'ms', default: 10_000, min: 100, max: 600_000,
    doc: 'How long a control forwarded to another node (-n PNN), an attach, or a traverse page waits for its answer.' },
  { name: 'TraverseBatchRecords', key: 'traverseBatchRecordsCount', unit: 'count', default: 1000, min: 1, max: 1000,
    doc: 'Records per traverse batch (a batch also stops at 1 MiB of data) (§2.3).' },
  { name: 'HopcountWarn', key: 'hopcountWarnCount', unit: 'count', default: 20, min: 1, max: 1_000_000,
    doc: 'A call redirected this many times is logged at warn and counted (there is no hop limit, §2.1.3).' },
  { name: 'LockWaitersMax', key: 'lockWaitersMaxCount', unit: 'count', default: 10_000, min: 1, max: 1_000_000,
    doc: 'Waiters (local requests and deferred calls) queued on one record; one more is refused with ERR_BUSY.' },
  { name: 'LockPollMaxMs', key: 'lockPollMaxMs', unit: 'ms', default: 5, min: 1, max: 1000,
    doc: 'Longest step of the backoff with which dbd re-checks a record locked by a shared-access client.' },
] as const satisfies readonly TunableRow[];

export type TunableName = (typeof TUNABLES)[number]['name'];
export type TunableKey = (typeof TUNABLES)[number]['key'];
export type TunableValues = { -readonly [K in TunableKey]: number };

export class TunableError extends Error {
  override readonly name = 'TunableError';
}

const byName = new Map<string, TunableRow>(TUNABLES.map((t) => [t.name.toLowerCase(), t]));

export function tunableRow(name: string): TunableRow | undefined {
  return byName.get(name.toLowerCase());
}

export function defaultTunables(): TunableValues {
  const out = {} as TunableValues;
  for (const t of TUNABLES) out[t.key] = t.default;
  return out;
}

/** Relations between tunables (as constants.zig's comptime asserts). Returns the broken one, or undefined. */
export function checkTunableRelations(t: TunableValues): string | undefined {
  if (t.sharedAccessLeaseMs >= t.keepaliveIntervalSeconds * 1000 * t.keepaliveLimitCount) {
    return 'SharedAccessLease must be shorter than KeepaliveInterval × KeepaliveLimit (§2.2)';
  }
  if (t.vacuumRetryMinMs > t.vacuumRetryMaxMs) {
    return 'VacuumRetryMin must not exceed VacuumRetryMax';
  }
  if (t.leaderBroadcastIntervalMs * 2 > t.leaderTimeoutMs) {
    return 'LeaderBroadcastInterval must be at most half of LeaderTimeout (§5.1)';
  }
  return undefined;
}

/** Sets one tunable by its user-visible name; validates bounds and relations; returns the row. */
export function setTunable(values: TunableValues, name: string, value: number): TunableRow {
  const row = tunableRow(name);
  if (row === undefined) throw new TunableError(`unknown tunable '${name}'`);
  if (row.obsolete) throw new TunableError(`tunable '${row.name}' is obsolete`);
  if (!Number.isFinite(value) || !Number.isInteger(value)) throw new TunableError(`${row.name}: '${value}' is not an integer`);
  if (value < row.min || value > row.max) throw new TunableError(`${row.name}: ${value} is outside ${row.min}..${row.max}`);
  const next = { ...values, [row.key]: value } as TunableValues;
  const broken = checkTunableRelations(next);
  if (broken !== undefined) throw new TunableError(broken);
  values[row.key as TunableKey] = value;
  return row;
}

/** Parses a ctdbng.tunables file: Name=value lines, # comments. */
export function parseTunablesFile(text: string, into: TunableValues = defaultTunables()): TunableValues {
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new TunableError(`tunables line ${i + 1}: expected Name=value`);
    const name = line.slice(0, eq).trim();
    const value = Number(line.slice(eq + 1).trim());
    try {
      setTunable(into, name, value);
    } catch (err) {
      throw new TunableError(`tunables line ${i + 1}: ${(err as Error).message}`);
    }
  }
  return into;
}

export function loadTunablesFile(path: string): TunableValues {
  const values = defaultTunables();
  if (!existsSync(path)) return values;
  return parseTunablesFile(readFileSync(path, 'utf8'), values);
}

/** The markdown table for the README (generated; a test compares it with the README). */
export function tunablesMarkdownTable(): string {
  const rows = TUNABLES.map((t) => `| \`${t.name}\` | ${t.default} | ${t.unit} | ${t.min}–${t.max} | ${t.doc} |`);
  return ['| tunable | default | unit | range | what it does |', '|---|---|---|---|---|', ...rows].join('\n');
}
