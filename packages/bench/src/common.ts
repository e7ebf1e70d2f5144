// What every benchmark shares: its own cluster (base dir + port base, always torn down), keys
// with a chosen lmaster, the measured operation and the timed loop.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '@ctdbng/cli';
import { lmasterOf } from '@ctdbng/common';
import type { Client, Db } from '@ctdbng/client';

export interface CommonOptions {
  /** Parent directory of the clusters' base dirs. */
  baseDir: string;
  /** Human output goes here (stderr with --json, so stdout has the JSON document only). */
  log: (line: string) => void;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

export const baseDirDefault = join(tmpdir(), 'ctdbng-bench');

/**
 * Port bases of each benchmark's cluster (node port P, recoverd P+1, metrics P+2..P+4). `all
 * --port-base Q` moves them all by Q − 25400.
 */
export const portBases = {
  'local-shared': 25_400,
  'local-zmq': 25_410,
  migrate: 25_420,
  concurrent: 25_430,
  traverse: 25_440,
  startup: 25_450,
  peer: 25_460,
  recovery: 25_470,
  vacuum: 25_480,
  'vacuum-latency': 25_490,
  floors: 25_500,
  cli: 25_510,
  idle: 25_520,
  'idle-16': 25_530,
  'startup-16': 25_540,
} as const;

export const portBaseLowest = 25_400;

const active = new Set<Cluster>();
let signalsHooked = false;

/** On SIGINT/SIGTERM take down whatever cluster is running, then exit. */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  const stop = (sig: NodeJS.Signals): void => {
    process.stderr.write(`ctdbng-bench: ${sig}, taking the cluster down\n`);
    void Promise.allSettled([...active].map((c) => c.down())).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export interface ClusterOptions {
  nodes?: number;
  /** Tunables of every node (name → value), e.g. { VacuumInterval: 10 }. */
  tunables?: Record<string, number>;
}

/** Starts a fresh cluster (3 nodes by default) in baseDir/name on portBase, runs fn, always takes it down. */
export async function withCluster<T>(
  o: CommonOptions, name: string, portBase: number, fn: (c: Cluster) => Promise<T>, co: ClusterOptions = {},
): Promise<T> {
  hookSignals();
  mkdirSync(o.baseDir, { recursive: true });
  const base = join(o.baseDir, name);
  const nodes = co.nodes ?? 3;
  const t0 = process.hrtime.bigint();
  const cluster = await startCluster({
    nodes, base, portBase, fresh: true, logLevel: o.logLevel, timeoutMs: 60_000, ...(co.tunables !== undefined ? { tunables: co.tunables } : {}),
  });
  active.add(cluster);
  const tun = co.tunables === undefined ? '' : `, tunables ${Object.entries(co.tunables).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  o.log(`  cluster: ${nodes} nodes in ${base}, port base ${portBase}${tun}, up in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
  try {
    return await fn(cluster);
  } finally {
    active.delete(cluster);
    await cluster.down();
  }
}

/** `count` keys `${prefix}${i}` whose lmaster is `lmaster` under `vnnmap`. */
export function keysWithLmaster(prefix: string, lmaster: number, vnnmap: readonly number[], count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const k = `${prefix}${i}`;
    if (lmasterOf(Buffer.from(k, 'utf8'), vnnmap) === lmaster) out.push(k);
  }
  return out;
}

export async function vnnmapOf(client: Client): Promise<number[]> {
  return (await client.getVnnMap()).pnns;
}

/** A 32-byte value; the first 8 bytes count up so every store writes new data. */
export function valueBuffer(): Buffer {
  return Buffer.alloc(32, 0x61);
}

/** The measured operation: fetch_lock, then store with unlock (2 steps: lock, store+unlock). */
export async function lockStoreUnlock(db: Db, key: string, value: Buffer, i: number): Promise<'shared' | 'dbd'> {
  const rec = await db.fetchLock(key);
  value.writeDoubleLE(i, 0);
  try {
    await rec.store(value, { unlock: true });
  } catch (err) {
    await rec.unlock().catch(() => undefined);
    throw err;
  }
  return rec.via;
}

export interface LoopResult {
  samplesNs: Float64Array;
  startNs: bigint;
  endNs: bigint;
  /** How many measured operations took the lock through shared access. */
  shared: number;
}

/** Runs `warmup` unmeasured then `ops` measured sequential operations, timing each one. */
export async function timedLoop(ops: number, warmup: number, op: (i: number) => Promise<'shared' | 'dbd'>): Promise<LoopResult> {
  for (let i = 0; i < warmup; i++) await op(i);
  const samplesNs = new Float64Array(ops);
  let shared = 0;
  const startNs = process.hrtime.bigint();
  let t = startNs;
  for (let i = 0; i < ops; i++) {
    if ((await op(warmup + i)) === 'shared') shared++;
    const t1 = process.hrtime.bigint();
    samplesNs[i] = Number(t1 - t);
    t = t1;
  }
  return { samplesNs, startNs, endNs: t, shared };
}

export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The command line that reproduces a run (node + this bin + its arguments). */
export function commandLine(args: readonly string[]): string {
  return ['npx ctdbng-bench', ...args].join(' ');
}
