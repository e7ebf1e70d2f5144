// Helpers of the vacuuming scenarios (test/vacuum/): fast tunables, `ctdbng vacuum --json`,
// vacuumd's metrics, the fault switch (packages/common/src/faults.ts), pausing the recovery
// daemons (a hung recoverd: links may go down without a recovery, so deletions stay pending in
// vacuumd instead of being settled by the recovery's merge), keys by lmaster, bulk writes with
// many requests in flight, and every node's local copies of a set of keys.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusyError, LockLostError, type Db } from '@ctdbng/client';
import { lmasterOf } from '@ctdbng/common';
import { ctdbngJson, type ClusterFixture } from './cluster.js';

/**
 * Vacuum passes every second and retries fast; a dead link is noticed after KeepaliveInterval ×
 * KeepaliveLimit = 3 s, a silent leader after LeaderTimeout; SharedAccessLease (1 s) < 3 s as dbd
 * requires.
 */
export const vacuumTunables: Record<string, number> = {
  VacuumInterval: 1,
  VacuumRetryMin: 50,
  VacuumRetryMax: 1000,
  KeepaliveInterval: 1,
  KeepaliveLimit: 3,
  LeaderTimeout: 1000,
  LeaderBroadcastInterval: 200,
  RecoverInterval: 200,
  RerecoveryTimeout: 0,
  SharedAccessLease: 1000,
  RecoveryDrainTimeout: 1000,
  ControlTimeout: 3000,
};

export interface VacuumReport {
  db: string;
  purged: number;
  pending: number;
  failed: number;
}

/** `ctdbng vacuum DB --json` on node pnn: one full pass now, and what is left. */
export function vacuumNow(fx: ClusterFixture, pnn: number, db: string): Promise<VacuumReport> {
  return ctdbngJson<VacuumReport>(fx.nodeBase(pnn), ['vacuum', db]);
}

/** One sample of vacuumd's metrics on node pnn (<node address>:(metrics port + 1)); 0 when absent. */
export async function vacuumMetric(fx: ClusterFixture, pnn: number, name: string, db: string): Promise<number> {
  // metrics ports: dbd portBase + 2, vacuumd + 3 (packages/cli layout, vacuumd README).
  const res = await fetch(`http://127.0.0.${pnn + 1}:${fx.portBase + 3}/metrics`);
  const text = await res.text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`db="${db}"`)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The sum of a vacuumd metric over the given nodes. */
export async function vacuumMetricSum(fx: ClusterFixture, pnns: readonly number[], name: string, db: string): Promise<number> {
  const v = await Promise.all(pnns.map((p) => vacuumMetric(fx, p, name, db)));
  return v.reduce((a, b) => a + b, 0);
}

// ---- fault switch

/** Writes node pnn's run/faults.json atomically (temp file, then rename). */
export function writeFaults(fx: ClusterFixture, pnn: number, faults: { blockedPeers?: number[]; failRecovery?: boolean }): void {
  const path = join(fx.nodeBase(pnn), 'run', 'faults.json');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(faults));
  renameSync(tmp, path);
}

/** Cuts node `pnn` off from the other nodes, in both directions. */
export function cutOff(fx: ClusterFixture, pnn: number, nodes = 3): void {
  const others = Array.from({ length: nodes }, (_, p) => p).filter((p) => p !== pnn);
  for (const p of others) writeFaults(fx, p, { blockedPeers: [pnn] });
  writeFaults(fx, pnn, { blockedPeers: others });
}

/** Removes every node's faults file. */
export function healAll(fx: ClusterFixture, nodes = 3): void {
  for (let p = 0; p < nodes; p++) rmSync(join(fx.nodeBase(p), 'run', 'faults.json'), { force: true });
}

// ---- daemons

/** The pid of one daemon of node pnn (run/<daemon>.pid, written by its supervisor). */
export function daemonPid(fx: ClusterFixture, pnn: number, daemon: string): number {
  const pid = Number(readFileSync(join(fx.nodeBase(pnn), 'run', `${daemon}.pid`), 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`no pid for ${daemon} of node ${pnn}`);
  return pid;
}

/**
 * SIGSTOPs every node's recoverd (a hung recovery daemon): no election, no recovery, while dbd
 * and vacuumd go on. Returns the resume function (SIGCONT), also deferred to the end of the test.
 */
export function pauseRecoverds(fx: ClusterFixture, nodes = 3): () => void {
  const pids = Array.from({ length: nodes }, (_, p) => daemonPid(fx, p, 'recoverd'));
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let resumed = false;
  const resume = (): void => {
    if (resumed) return;
    resumed = true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already gone (restarted by its supervisor): nothing to resume.
      }
    }
  };
  fx.defer(resume);
  return resume;
}

/** Node pnn's links as its dbd sees them (GetNodeState.linksUp). */
export async function linksUp(fx: ClusterFixture, pnn: number): Promise<number[]> {
  const c = await fx.client(pnn);
  return (await c.getNodeState()).linksUp;
}

// ---- keys and records

/** `count` distinct keys `prefix-i` whose lmaster under vnnmap is `lmaster`. */
export function keysWithLmaster(prefix: string, lmaster: number, vnnmap: readonly number[], count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    if (i > count * 100 + 1000) throw new Error(`no ${count} keys with lmaster ${lmaster}`);
    const key = `${prefix}-${i}`;
    if (lmasterOf(Buffer.from(key), vnnmap) === lmaster) out.push(key);
  }
  return out;
}

/** Runs fn over items with at most `inFlight` at a time. */
export async function inPool<T>(items: readonly T[], inFlight: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

/**
 * fn again while dbd answers ERR_BUSY: under load (two cores, nine daemons) dbd refuses a request
 * whose SQLite transaction stayed busy past its bound; the request wrote nothing and may be retried.
 */
export async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof BusyError) || attempt >= 100) throw err;
      await new Promise((res) => setTimeout(res, Math.min(2 * attempt, 50)));
    }
  }
}

/**
 * fetch_lock and then `op` on the locked record, again from the fetch_lock when the lock was lost:
 * a recovery's freeze voids record locks (README, "Decisions"), and ERR_LOCK_LOST means the store
 * or delete was not done — a client takes the lock again, as a test cutting a node off mid-batch
 * must.
 */
async function underLock(db: Db, key: string, op: (rec: Awaited<ReturnType<Db['fetchLock']>>) => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const rec = await retryBusy(() => db.fetchLock(key));
    try {
      await retryBusy(() => op(rec));
      return;
    } catch (err) {
      if (!(err instanceof LockLostError) || attempt >= 20) throw err;
    }
  }
}

/** fetch_lock + store with unlock (two requests), for many keys with many in flight. */
export function writeMany(db: Db, keys: readonly string[], value: (key: string) => string, inFlight = 64): Promise<void> {
  return inPool(keys, inFlight, (k) => underLock(db, k, (rec) => rec.store(value(k), { unlock: true })));
}

/** fetch_lock + delete with unlock, for many keys with many in flight. */
export function deleteMany(db: Db, keys: readonly string[], inFlight = 64): Promise<void> {
  return inPool(keys, inFlight, (k) => underLock(db, k, (rec) => rec.delete({ unlock: true })));
}

export interface LocalCopy {
  pnn: number;
  key: string;
  rsn: number;
  dmaster: number;
  data: string;
}

/** Every copy (stale ones and tombstones too) of the given keys in node pnn's store: cattdb's request. */
export async function localCopies(fx: ClusterFixture, pnn: number, dbName: string, keys: ReadonlySet<string>): Promise<LocalCopy[]> {
  const c = await fx.client(pnn);
  const db = await c.db(dbName);
  const out: LocalCopy[] = [];
  for await (const r of db.traverse({ local: true })) {
    const key = r.key.toString();
    if (keys.has(key)) out.push({ pnn, key, rsn: r.header.rsn, dmaster: r.header.dmaster, data: r.data.toString() });
  }
  return out;
}

/** Every node's local copies of the given keys. */
export async function copiesEverywhere(fx: ClusterFixture, dbName: string, keys: ReadonlySet<string>, nodes = 3): Promise<LocalCopy[]> {
  const all = await Promise.all(Array.from({ length: nodes }, (_, p) => localCopies(fx, p, dbName, keys)));
  return all.flat();
}

/** Size in bytes of node pnn's main SQLite file of a volatile db (not the WAL). */
export function volatileFileSize(fx: ClusterFixture, pnn: number, dbName: string): number {
  return statSync(join(fx.nodeBase(pnn), 'db', 'volatile', `${dbName}.${pnn}.sqlite`)).size;
}
