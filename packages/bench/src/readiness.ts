// "The cluster is up", decided the same way for ctdb-ng and for CTDB 4.17: every node reports
// every node OK (`nodestatus all` exits 0 on each node, which is what the peer's up.sh waits for)
// and node 0's `status` shows "Recovery mode:NORMAL" (the first recovery is over). Polled every
// 100 ms, as up.sh does, from the moment the start command is spawned. Only the way a CLI call is
// made differs: CTDB's `ctdb` binary is spawned (~10 ms a call); ctdb-ng's CLI code runs in this
// process (runCtdbng), because spawning node for each poll would add its ~0.25 s start to ctdb-ng's
// figure, which is the CLI's cost, not the cluster's.
import { spawn } from 'node:child_process';
import { connect } from '@ctdbng/client';
import { runCtdbng } from '@ctdbng/cli';
import { sleep } from './cluster-ops.js';
import { secondsSince } from './common.js';

export interface CliAnswer { status: number | null; stdout: string }

/** One CLI call against node `pnn`. */
export type CliProbe = (pnn: number, args: readonly string[]) => Promise<CliAnswer>;

export const readinessPollMs = 100;

/** The criterion, once: true when every node sees every node OK and node 0 is out of recovery. */
export async function clusterReady(cli: CliProbe, nodes: number): Promise<boolean> {
  for (let p = 0; p < nodes; p++) {
    if ((await cli(p, ['nodestatus', 'all'])).status !== 0) return false;
  }
  const s = await cli(0, ['status']);
  return s.status === 0 && /^Recovery mode:NORMAL/m.test(s.stdout);
}

/** Spawns `cmd args` and resolves with its exit, time and output (stdout and stderr together). */
export function spawnTimed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): { done: Promise<{ sec: number; code: number | null; out: string }> } {
  const t0 = process.hrtime.bigint();
  const ch = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  ch.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  ch.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<{ sec: number; code: number | null; out: string }>((resolve, reject) => {
    ch.on('error', reject);
    ch.on('close', (code) => resolve({ sec: secondsSince(t0), code, out }));
  });
  return { done };
}

export interface TimedStart {
  /** Spawn → the criterion first held. NaN when it did not hold before the deadline. */
  readySec: number;
  /** Spawn → the start command's exit. */
  exitSec: number;
  exitCode: number | null;
  out: string;
}

/**
 * Spawns the start command and polls `cli` for the criterion from that moment on; resolves once
 * both the criterion held (or `timeoutMs` passed) and the command exited.
 */
export async function timeStart(cmd: string, args: readonly string[], cli: CliProbe, nodes: number, timeoutMs: number): Promise<TimedStart> {
  const t0 = process.hrtime.bigint();
  const started = spawnTimed(cmd, args);
  let exited = false;
  const done = started.done.finally(() => { exited = true; });
  let readySec = Number.NaN;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await clusterReady(cli, nodes)) {
      readySec = secondsSince(t0);
      break;
    }
    // A start command that failed will not make the cluster ready: stop polling.
    if (exited && (await done).code !== 0) break;
    await sleep(readinessPollMs);
  }
  const d = await done;
  return { readySec, exitSec: d.sec, exitCode: d.code, out: d.out };
}

/** CTDB 4.17's CLI against node `pnn` of the peer in `peerBase` (async, as up.sh calls it). */
export function ctdbProbe(peerBase: string): CliProbe {
  return (pnn, args) => new Promise((resolve) => {
    const ch = spawn('/usr/bin/ctdb', ['-T', '5', ...args], {
      env: { ...process.env, CTDB_TEST_MODE: 'yes', CTDB_BASE: `${peerBase}/node.${pnn}` }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    ch.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    ch.on('error', () => resolve({ status: null, stdout }));
    ch.on('close', (status) => resolve({ status, stdout }));
  });
}

/** ctdb-ng's CLI code, in this process, against node directory `nodeBase(pnn)`. */
export function ctdbngProbe(nodeBase: (pnn: number) => string): CliProbe {
  return async (pnn, args) => {
    let stdout = '';
    const status = await runCtdbng(['-T', '5', ...args], {
      stdout: (s) => { stdout += s; },
      stderr: () => undefined, // "cannot reach dbd" while it starts: just not ready yet
      env: { ...process.env, CTDBNG_BASE: nodeBase(pnn) },
      stderrIsTty: false,
      connect: (o) => connect(o),
    }).catch(() => null);
    return { status, stdout };
  };
}
