// Helpers of the recovery scenarios (test/recovery/): the fault switch (packages/common/src/
// faults.ts: cut a node off in both directions, make a node fail every recovery step), the
// cluster's view through `ctdbng status --json` and GetNodeState, and the tunables that make
// recoveries fast and bounded on a loaded machine.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NodeState } from '@ctdbng/client';
import { faultSwitchPollMs } from '@ctdbng/common';
import { ctdbng, ctdbngJson, type ClusterFixture, type JsonRecord } from './cluster.js';

/**
 * Fast, bounded recoveries: a dead link is noticed after KeepaliveInterval × KeepaliveLimit = 3 s,
 * a silent leader after LeaderTimeout; SharedAccessLease (1 s) < 3 s as dbd requires.
 */
export const fastTunables: Record<string, number> = {
  KeepaliveInterval: 1,
  KeepaliveLimit: 3,
  LeaderTimeout: 1000,
  LeaderBroadcastInterval: 200,
  RecoverInterval: 200,
  RerecoveryTimeout: 0,
  SharedAccessLease: 1000,
  RecoveryDrainTimeout: 1000,
  RecoveryTimeout: 10_000,
  ControlTimeout: 3000,
  VacuumInterval: 1,
  VacuumRetryMin: 50,
  VacuumRetryMax: 500,
};

export interface FaultSwitches {
  blockedPeers?: number[];
  failRecovery?: boolean;
  /** The one recovery control dbd answers with ERR_INTERNAL. */
  failStep?: string;
  oneWay?: { dropTo?: number[]; dropFrom?: number[] };
  /** vacuumd stops after this phase until the file changes. */
  pauseAfter?: 'storeTombstone' | 'tryDelete';
}

/** Writes node pnn's run/faults.json atomically (temp file, then rename). */
export function writeFaults(fx: ClusterFixture, pnn: number, faults: FaultSwitches): void {
  const path = join(fx.nodeBase(pnn), 'run', 'faults.json');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(faults));
  renameSync(tmp, path);
}

/**
 * Waits until every daemon has re-read its faults file: each reads it at most every
 * faultSwitchPollMs, and a recovery of a few records (~40 ms with packed pages) can run from
 * start to thaw inside one such period, before the switch holds. No event says a file was read.
 */
export async function faultsRead(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 3 * faultSwitchPollMs));
}

/** Deletes node pnn's faults file (no faults). */
export function clearFaults(fx: ClusterFixture, pnn: number): void {
  rmSync(join(fx.nodeBase(pnn), 'run', 'faults.json'), { force: true });
}

/** Cuts node `pnn` off from every other node of an n-node cluster, in both directions. */
export function cutOff(fx: ClusterFixture, pnn: number, nodes = 3): void {
  const others = Array.from({ length: nodes }, (_, p) => p).filter((p) => p !== pnn);
  for (const p of others) writeFaults(fx, p, { blockedPeers: [pnn] });
  writeFaults(fx, pnn, { blockedPeers: others });
}

/** Removes every node's faults file. */
export function healAll(fx: ClusterFixture, nodes = 3): void {
  for (let p = 0; p < nodes; p++) clearFaults(fx, p);
}

export interface StatusJson {
  pnn: number;
  generation: number;
  leader: number | null;
  vnnmap: number[];
  quorum: boolean;
  nodes: { pnn: number; address: string; flags: string[] }[];
}

/** `ctdbng status --json` seen from node pnn. */
export function status(fx: ClusterFixture, pnn: number): Promise<StatusJson> {
  return ctdbngJson<StatusJson>(fx.nodeBase(pnn), ['status']);
}

/** Node pnn's GetNodeState through a fresh connection to its own dbd; undefined when it does not answer. */
export async function nodeState(fx: ClusterFixture, pnn: number, timeoutMs = 2000): Promise<NodeState | undefined> {
  try {
    const c = await connect({ base: fx.nodeBase(pnn), name: 'it-state', timeoutMs });
    try {
      return await c.getNodeState();
    } finally {
      await c.close();
    }
  } catch {
    return undefined;
  }
}

/** Every listed node's state (undefined for a node that does not answer). */
export function nodeStates(fx: ClusterFixture, pnns: readonly number[]): Promise<(NodeState | undefined)[]> {
  return Promise.all(pnns.map((p) => nodeState(fx, p)));
}

/**
 * The listed nodes agree on one nonzero generation and vnnmap `members`, are thawed, active and
 * know the same leader: returns "gen/leader", else a description of the disagreement (for
 * expect.poll(...).toMatch).
 */
export async function settledOn(fx: ClusterFixture, pnns: readonly number[], members: readonly number[]): Promise<string> {
  const states = await nodeStates(fx, pnns);
  const desc = states.map((s, i) => (s === undefined ? `${pnns[i]}:down` : `${s.pnn}:g${s.generation} v[${s.vnnmap.join(',')}] l${s.leader} f${Number(s.frozen)} i${Number(s.inactive)}`));
  const ok = states.every((s) => s !== undefined && s.generation !== 0 && !s.frozen && !s.inactive && s.leader !== null
    && s.generation === states[0]!.generation && s.leader === states[0]!.leader
    && s.vnnmap.join(',') === members.join(','));
  return ok ? `settled g${states[0]!.generation} l${states[0]!.leader}` : desc.join(' | ');
}

/** Polls until the listed nodes agree (settledOn) and returns that generation and leader. */
export async function waitSettled(fx: ClusterFixture, pnns: readonly number[], members: readonly number[], timeoutMs = 30_000): Promise<{ generation: number; leader: number }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await settledOn(fx, pnns, members);
    const m = /^settled g(\d+) l(\d+)$/.exec(last);
    if (m !== null) return { generation: Number(m[1]), leader: Number(m[2]) };
    if (Date.now() > deadline) throw new Error(`nodes ${pnns.join(',')} did not settle on vnnmap [${members.join(',')}] in ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `ctdbng recover` on node pnn (waits until the recovery is done); returns the new generation. */
export async function recover(fx: ClusterFixture, pnn = 0): Promise<number> {
  const r = await ctdbngJson<{ generation: number }>(fx.nodeBase(pnn), ['recover']);
  return r.generation;
}

/** Every record of node pnn's local store (`cattdb DB --json`), by key. */
export async function cattdb(fx: ClusterFixture, pnn: number, db: string): Promise<Map<string, JsonRecord>> {
  const out = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(pnn), ['cattdb', db]);
  return new Map(out.records.map((r) => [r.key, r]));
}

/** The live records cluster-wide (`catdb DB --json` on node pnn), by key. */
export async function catdb(fx: ClusterFixture, pnn: number, db: string): Promise<Map<string, JsonRecord>> {
  const out = await ctdbngJson<{ records: JsonRecord[] }>(fx.nodeBase(pnn), ['catdb', db]);
  return new Map(out.records.map((r) => [r.key, r]));
}

/** `ctdbng vacuum DB --json` on node pnn: what is still pending there. */
export async function vacuumPending(fx: ClusterFixture, pnn: number, db: string): Promise<number> {
  const r = await ctdbngJson<{ pending: number }>(fx.nodeBase(pnn), ['vacuum', db]);
  return r.pending;
}

/** Runs `ctdbng ARGS` on node pnn and requires exit status 0. */
export async function ctdbngOk(fx: ClusterFixture, pnn: number, args: string[]): Promise<string> {
  const r = await ctdbng(fx.nodeBase(pnn), args);
  if (r.code !== 0) throw new Error(`ctdbng ${args.join(' ')} on node ${pnn} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A Prometheus counter or gauge (summed over its label sets matching `labels`) from an HTTP metrics endpoint. */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** recoverd's metrics URL of node pnn (metrics port + 2 on the node's own address). */
export function recoverdMetricsUrl(fx: ClusterFixture, pnn: number): string {
  return `http://127.0.0.${pnn + 1}:${fx.portBase + 4}/metrics`;
}

/** The pid in node pnn's run/<name>.pid (supervisor, dbd, recoverd, vacuumd). */
export function pidOf(fx: ClusterFixture, pnn: number, name: string): number {
  return Number(readFileSync(join(fx.nodeBase(pnn), 'run', `${name}.pid`), 'utf8').trim());
}

/**
 * Takes node pnn's daemons away for good: its supervisor is paused (SIGSTOP: it restarts
 * nothing) and the daemons SIGKILLed. Returns the resume (SIGCONT), which is also deferred to
 * the end of the test; the supervisor then restarts them.
 */
export function killHeld(fx: ClusterFixture, pnn: number, daemons: readonly string[]): () => void {
  const supervisor = pidOf(fx, pnn, 'supervisor');
  process.kill(supervisor, 'SIGSTOP');
  let resumed = false;
  const resume = (): void => {
    if (resumed) return;
    resumed = true;
    process.kill(supervisor, 'SIGCONT');
  };
  fx.defer(resume);
  for (const d of daemons) {
    try {
      process.kill(pidOf(fx, pnn, d), 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return resume;
}

/**
 * The record-ownership invariants over the listed nodes' copies of db (cattdb): for every key,
 * at most one node's copy names that node itself as dmaster, and that copy has strictly the
 * highest rsn (the identical tombstones vacuuming places are the one exception, DESIGN §2.1.5).
 * Returns the violations, one line each.
 */
export async function ownershipViolations(fx: ClusterFixture, pnns: readonly number[], db: string): Promise<string[]> {
  const copies = await Promise.all(pnns.map(async (p) => ({ pnn: p, recs: await cattdb(fx, p, db) })));
  const keys = new Set(copies.flatMap((c) => [...c.recs.keys()]));
  const out: string[] = [];
  for (const key of keys) {
    const held = copies.flatMap((c) => {
      const r = c.recs.get(key);
      return r === undefined ? [] : [{ pnn: c.pnn, r }];
    });
    const owners = held.filter((h) => h.r.dmaster === h.pnn);
    if (owners.length > 1) out.push(`${key}: dmaster on nodes ${owners.map((o) => o.pnn).join(',')}`);
    const owner = owners[0];
    if (owner === undefined) continue;
    const newer = held.filter((h) => h.pnn !== owner.pnn && h.r.rsn >= owner.r.rsn && !(h.r.rsn === owner.r.rsn && h.r.data === '' && owner.r.data === ''));
    if (newer.length > 0) out.push(`${key}: node ${newer.map((n) => n.pnn).join(',')} has rsn ≥ the dmaster's (${owner.r.rsn} on ${owner.pnn})`);
  }
  return out;
}
