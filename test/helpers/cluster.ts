// Fixtures of the multi-process tests (STYLE §3): a real 3-node cluster per test file, started in
// beforeAll and always taken down (and its directory removed) in afterAll; node logs dumped when a
// test fails. Also the real CLI, child client processes and raw ZeroMQ sockets, each stopped by
// the fixture that started it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startCluster, type Cluster } from '@ctdbng/cli';
import type { Client } from '@ctdbng/client';
import { lmasterOf } from '@ctdbng/common';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
/** The `ctdbng` bin of packages/cli package.json "bin": what a user runs (the bundle once built). */
const ctdbngBin = join(repoRoot, 'packages', 'cli', 'bin', 'ctdbng.js');
const logTailLines = 60;

export interface ClusterFixture {
  /** The running cluster; valid inside tests (after beforeAll). */
  readonly cluster: Cluster;
  readonly portBase: number;
  /** The node ROUTER port (the same on every node: one loopback address each). */
  readonly nodePort: number;
  nodeBase(pnn: number): string;
  /** A client of node pnn, closed after the current test. */
  client(pnn: number, o?: { sharedAccess?: boolean; timeoutMs?: number }): Promise<Client>;
  /** Runs fn at the end of the current test, pass or fail (reverse order). */
  defer(fn: () => unknown): void;
}

/** Prints the tail of every log of every node of `base`. */
export function dumpLogs(base: string, nodes: number): void {
  for (let p = 0; p < nodes; p++) {
    const dir = join(base, `node.${p}`, 'log');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      const lines = readFileSync(join(dir, f), 'utf8').split('\n');
      console.log(`--- ${join(dir, f)} (last ${logTailLines} lines)\n${lines.slice(-logTailLines - 1).join('\n')}`);
    }
  }
}

/**
 * Starts a 3-node cluster for the test file (in beforeAll) with its own temp base and ports, and
 * takes it down in afterAll. Per test: logs dumped on failure, deferred cleanups run afterwards.
 */
export interface UseClusterOptions {
  portBase: number;
  tunables?: Record<string, number>;
  nodes?: number;
  /** The cluster lock spec (`cluster lock =` in every ctdbng.conf), read when the cluster starts. */
  clusterLock?: () => string;
  /** Nodes configured `witness` in the nodes file (DESIGN §1). */
  witnesses?: number[];
  /** Run in beforeAll ahead of the start (e.g. an etcd the conf names), and in afterAll after the stop. */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

/**
 * Test clusters bind fixed ports below Linux's ephemeral range (32768–60999 by default): a port
 * in it can be the local port of any client connection at that moment, and the bind fails.
 */
export const testPortsMax = 32_767;

export function useCluster(name: string, o: UseClusterOptions): ClusterFixture {
  const nodes = o.nodes ?? 3;
  if (o.portBase + 4 > testPortsMax) throw new Error(`portBase ${o.portBase}: test ports must stay below ${testPortsMax + 1} (the ephemeral port range)`);
  const base = mkdtempSync(join(tmpdir(), `ctdbng-it-${name}-`));
  let cluster: Cluster | undefined;
  let cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    await o.before?.();
    cluster = await startCluster({
      nodes, base, portBase: o.portBase, fresh: true,
      ...(o.tunables ? { tunables: o.tunables } : {}),
      ...(o.clusterLock ? { clusterLock: o.clusterLock() } : {}),
      ...(o.witnesses ? { witnesses: o.witnesses } : {}),
    });
  });
  afterAll(async () => {
    try {
      await cluster?.down();
      await o.after?.();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => dumpLogs(base, nodes));
  });
  afterEach(async () => {
    const run = cleanups.reverse();
    cleanups = [];
    for (const fn of run) await fn();
  });
  const fixture: ClusterFixture = {
    get cluster(): Cluster {
      if (cluster === undefined) throw new Error('cluster not started (used outside a test?)');
      return cluster;
    },
    portBase: o.portBase,
    nodePort: o.portBase,
    nodeBase: (pnn) => join(base, `node.${pnn}`),
    async client(pnn, co = {}) {
      const { connect } = await import('@ctdbng/client');
      const c = await connect({ base: fixture.nodeBase(pnn), name: 'it', timeoutMs: co.timeoutMs ?? 20_000, sharedAccess: co.sharedAccess ?? false });
      cleanups.push(() => c.close());
      return c;
    },
    defer(fn) {
      cleanups.push(fn);
    },
  };
  return fixture;
}

/** A key (prefix-i) whose lmaster under `vnnmap` is `lmaster`. */
export function keyWithLmaster(prefix: string, lmaster: number, vnnmap: readonly number[], skip = 0): string {
  let found = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const key = `${prefix}-${i}`;
    if (lmasterOf(Buffer.from(key), vnnmap) !== lmaster) continue;
    if (found++ === skip) return key;
  }
  throw new Error(`no key with lmaster ${lmaster}`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `ctdbng` CLI against node directory `nodeBase`. */
export function ctdbng(nodeBase: string, args: string[]): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [ctdbngBin, ...args], {
      env: { ...process.env, CTDBNG_BASE: nodeBase },
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** `ctdbng --json ARGS`, exit status 0 required, stdout parsed. */
export async function ctdbngJson<T = unknown>(nodeBase: string, args: string[]): Promise<T> {
  const r = await ctdbng(nodeBase, ['--json', ...args]);
  if (r.code !== 0) throw new Error(`ctdbng ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface JsonRecord {
  key: string;
  keyHex: string;
  rsn: number;
  dmaster: number;
  flags: string[];
  data: string;
  dataHex: string;
}

/** This node's copy of `key` as `cattdb DB --json` shows it (undefined when it has none). */
export async function cattdbRecord(nodeBase: string, db: string, key: string): Promise<JsonRecord | undefined> {
  const out = await ctdbngJson<{ records: JsonRecord[] }>(nodeBase, ['cattdb', db]);
  const hits = out.records.filter((r) => r.key === key);
  if (hits.length > 1) throw new Error(`cattdb shows ${key} ${hits.length} times`);
  return hits[0];
}

/** A child process running a fixture script; its output is collected; killed after the test. */
export class ChildScript {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [join(fixturesDir, script), ...args], {
      cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; });
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; });
    this.exited = new Promise((res) => this.proc.once('exit', (code, signal) => res({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves with the first stdout line matching `re`; rejects when the child exits first. */
  async line(re: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      for (const l of this.stdout.split('\n')) {
        const m = re.exec(l);
        if (m !== null) return m;
      }
      const next = await Promise.race([
        new Promise<'data'>((res) => this.proc.stdout!.once('data', () => res('data'))),
        this.exited.then(() => 'exit' as const),
      ]);
      if (next === 'exit' && !re.test(this.stdout)) {
        throw new Error(`${this.proc.spawnargs.join(' ')} exited before printing ${re}: stdout=${this.stdout} stderr=${this.stderr}`);
      }
    }
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** Waits for a clean exit (code 0) and returns the last line of stdout (besides "ready"). */
  async success(): Promise<string> {
    const { code, signal } = await this.exited;
    if (code !== 0) throw new Error(`${this.proc.spawnargs.join(' ')} exited code=${code} signal=${signal}: ${this.stderr}`);
    return this.stdout.split('\n').filter((l) => l !== '' && l !== 'ready').at(-1) ?? '';
  }

  /** SIGKILL; resolves once the child is reaped (its pid is dead). */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts the scripts, waits until each printed "ready", then lets them all go at once. */
export async function startTogether(children: ChildScript[]): Promise<void> {
  await Promise.all(children.map((c) => c.line(/^ready$/)));
  for (const c of children) c.send('go');
}

/** Starts a fixture script, killed at the end of the current test. */
export function startScript(fx: ClusterFixture, script: string, args: string[]): ChildScript {
  const child = new ChildScript(script, args);
  fx.defer(() => child.kill());
  return child;
}
