// What the recovery and vacuum benchmarks share: filling a db on its lmasters, spreading it to
// every node with one recovery, the `ctdbng` CLI as a child process, the daemons' Prometheus
// metrics, local (per-node) traverses, and vacuumd's pid and resident memory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { Cluster } from '@ctdbng/cli';
import { BusyError, type Db } from '@ctdbng/client';
import { lmasterOf } from '@ctdbng/common';
import { binCommand, ctdbngBin } from './cli-paths.js';
import { lockStoreUnlock, secondsSince } from './common.js';

/** `rec00000000`…: the keys of a benchmark db. */
export function benchKey(i: number, prefix = 'rec'): string {
  return `${prefix}${String(i).padStart(8, '0')}`;
}

/** The keys 0..count-1 bucketed by their lmaster under `vnnmap` (index = pnn). */
export function bucketByLmaster(keys: readonly string[], vnnmap: readonly number[], nodes: number): string[][] {
  const buckets: string[][] = Array.from({ length: nodes }, () => []);
  for (const k of keys) buckets[lmasterOf(Buffer.from(k), vnnmap)]!.push(k);
  return buckets;
}

/** `window` chains of `op` in flight over `items`, until every item is done. */
export async function inFlight<T>(items: readonly T[], window: number, op: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await op(items[i]!, i);
    }
  }));
}

/** ERR_BUSY answers retried by fill and deleteKeys (dbd's store was busy past its bound: retry). */
export const busyRetries = { count: 0 };

/** Runs `op`, retrying it after a short pause while dbd answers ERR_BUSY (at most 100 times). */
export async function retryBusy<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof BusyError) || attempt >= 100) throw err;
      busyRetries.count++;
      await sleep(Math.min(50, 2 ** Math.min(attempt, 5)));
    }
  }
}

/** Creates every key of `keys` on `db` (fetch_lock + store 32 bytes + unlock), `window` in flight. */
export async function fillNode(db: Db, keys: readonly string[], window: number): Promise<void> {
  const value = Buffer.alloc(32, 0x62);
  const values = Array.from({ length: Math.min(window, keys.length) }, () => Buffer.from(value));
  let slot = 0;
  await inFlight(keys, window, async (k, i) => {
    const v = values[slot++ % values.length]!;
    await retryBusy(() => lockStoreUnlock(db, k, v, i));
  });
}

/** Deletes every key of `keys` through `db` (fetch_lock + delete with unlock), `window` in flight. */
export async function deleteKeys(db: Db, keys: readonly string[], window: number): Promise<void> {
  await inFlight(keys, window, async (k) => {
    await retryBusy(async () => {
      const rec = await db.fetchLock(k);
      try {
        await rec.delete({ unlock: true });
      } catch (err) {
        await rec.unlock().catch(() => undefined);
        throw err;
      }
    });
  });
}

export interface CliRun { sec: number; code: number | null; stdout: string; stderr: string }

/** Runs `ctdbng ARGS` against node `nodeBase` (CTDBNG_BASE), spawn to exit timed. */
export function runCtdbng(nodeBase: string, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const bin = binCommand(ctdbngBin());
    const t0 = process.hrtime.bigint();
    const ch = spawn(bin.cmd, [...bin.args, ...args], { env: { ...process.env, CTDBNG_BASE: nodeBase }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    ch.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    ch.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    ch.on('error', reject);
    ch.on('close', (code) => resolve({ sec: secondsSince(t0), code, stdout, stderr }));
  });
}

/** `ctdbng --json ARGS`, parsed; throws with its stderr when it fails. */
export async function ctdbngJson<T>(nodeBase: string, args: readonly string[]): Promise<{ sec: number; json: T }> {
  const r = await runCtdbng(nodeBase, ['--json', ...args]);
  if (r.code !== 0) throw new Error(`ctdbng ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return { sec: r.sec, json: JSON.parse(r.stdout) as T };
}

/** Node `pnn`'s address and its daemons' metrics ports (port base P: dbd P+2, vacuumd P+3, recoverd P+4). */
export function metricsAddress(pnn: number, portBase: number, daemon: 'dbd' | 'vacuumd' | 'recoverd'): { host: string; port: number } {
  return { host: `127.0.0.${pnn + 1}`, port: portBase + (daemon === 'dbd' ? 2 : daemon === 'vacuumd' ? 3 : 4) };
}

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** GET /metrics (text exposition format), parsed into samples. */
export function scrapeMetrics(host: string, port: number, timeoutMs = 2_000): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/metrics', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(parseMetrics(body)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`metrics of ${host}:${port}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function metricSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Counts the local copies (records and tombstones) of `db` on its node; `keys` found among them. */
export async function localCopies(db: Db, keys?: ReadonlySet<string>): Promise<{ copies: number; found: string[] }> {
  let copies = 0;
  const found: string[] = [];
  for await (const r of db.traverse({ local: true })) {
    copies++;
    if (keys !== undefined) {
      const k = r.key.toString('utf8');
      if (keys.has(k)) found.push(k);
    }
  }
  return { copies, found };
}

/**
 * One `ctdbng recover` on node 0 so that every node holds every record (the recovery pushes the
 * merged db to every participant); checks each node's local copy count when `expect` is given.
 */
export async function spreadWithRecovery(cluster: Cluster, dbs: readonly Db[], expect?: number): Promise<{ sec: number; counts: number[] }> {
  const t0 = process.hrtime.bigint();
  await ctdbngJson(cluster.nodeBase(0), ['recover']);
  const sec = secondsSince(t0);
  const counts = expect === undefined ? [] : await Promise.all(dbs.map(async (db) => (await localCopies(db)).copies));
  if (expect !== undefined && counts.some((c) => c !== expect)) throw new Error(`after the spreading recovery the nodes hold ${counts.join(' / ')} records, expected ${expect} each`);
  return { sec, counts };
}

/** vacuumd's pid on node `nodeBase` (run/vacuumd.pid). */
export function vacuumdPid(nodeBase: string): number {
  const pid = Number(readFileSync(join(nodeBase, 'run', 'vacuumd.pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no vacuumd pid in ${nodeBase}/run/vacuumd.pid`);
  return pid;
}

/** VmRSS and VmHWM (peak) of a process, in MiB; undefined when it is gone. */
export function residentMiB(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
