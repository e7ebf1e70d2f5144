// "The cluster is up", decided the same way for ctdb-ng and for CTDB 4.17: every node reports
// every node OK and has finished its first recovery, and then node 0 is in recovery mode NORMAL.
//   every node: `nodestatus all` exits 0 (every node OK: what the peer's up.sh waits for). A CTDB
//     node is OK only after its first recovery (and first monitor event), so for CTDB that is
//     all; a ctdb-ng node can say OK before its first recovery, so ctdb-ng's `getvnnmap` must also
//     show a valid generation with all N nodes on that node (ctdb 4.17 has no getvnnmap, and its
//     `status` costs 0.5-1 s a call here, too slow to poll);
//   then node 0's `status` shows "Recovery mode:NORMAL" (both CLIs print ctdb's format). The time
//     is taken when the per-node checks pass; this last call only confirms it.
// Polled every 100 ms, as up.sh does, from the moment the start command is spawned.
import { spawn } from 'node:child_process';
import { connect } from '@ctdbng/client';
import { runCtdbng } from '@ctdbng/cli';
import { sleep } from './cluster-ops.js';
import { secondsSince } from './common.js';

export interface CliAnswer { status: number | null; stdout: string }

export interface CliProbe {
  /** One CLI call against node `pnn`. */
  call(pnn: number, args: readonly string[]): Promise<CliAnswer>;
  /** CTDB: OK implies the first recovery is done; ctdb-ng: no, check getvnnmap too. */
  okImpliesRecovered: boolean;
}

export const readinessPollMs = 100;
/** How long the criterion may lag the start command's successful exit before the run counts as failed. */
const afterExitMsMax = 30_000;

/** The per-node part of the criterion, once: every node sees every node OK (and is recovered). */
export async function nodesReady(cli: CliProbe, nodes: number): Promise<boolean> {
  for (let p = 0; p < nodes; p++) {
    if ((await cli.call(p, ['nodestatus', 'all'])).status !== 0) return false;
    if (cli.okImpliesRecovered) continue;
    const v = await cli.call(p, ['getvnnmap']);
    if (v.status !== 0 || !vnnmapComplete(v.stdout, nodes)) return false;
  }
  return true;
}

/** The confirmation: node 0's `status` says "Recovery mode:NORMAL". */
export async function recoveryNormal(cli: CliProbe): Promise<boolean> {
  const s = await cli.call(0, ['status']);
  return s.status === 0 && /^Recovery mode:NORMAL/m.test(s.stdout);
}

/** `getvnnmap` output (ctdb's format, which ctdbng's copies) with a valid generation and `nodes` entries. */
export function vnnmapComplete(out: string, nodes: number): boolean {
  const gen = /^Generation:(\S+)$/m.exec(out)?.[1];
  const size = /^Size:(\d+)$/m.exec(out)?.[1];
  return gen !== undefined && gen !== 'INVALID' && gen !== '0' && Number(size) === nodes;
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
  let exitedAtMs: number | undefined;
  const done = started.done.finally(() => { exitedAtMs = Date.now(); });
  let readySec = Number.NaN;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await nodesReady(cli, nodes)) {
      const atSec = secondsSince(t0);
      if (await recoveryNormal(cli)) {
        readySec = atSec;
        break;
      }
    }
    // A start command that failed will not make the cluster ready, and one that succeeded must
    // have made it ready soon after: stop polling then.
    if (exitedAtMs !== undefined && ((await done).code !== 0 || Date.now() - exitedAtMs > afterExitMsMax)) break;
    await sleep(readinessPollMs);
  }
  const d = await done;
  return { readySec, exitSec: d.sec, exitCode: d.code, out: d.out };
}

/** CTDB 4.17's CLI against node `pnn` of the peer in `peerBase` (async, as up.sh calls it). */
export function ctdbProbe(peerBase: string): CliProbe {
  return { okImpliesRecovered: true, call: (pnn, args) => new Promise((resolve) => {
    const ch = spawn('/usr/bin/ctdb', ['-T', '5', ...args], {
      env: { ...process.env, CTDB_TEST_MODE: 'yes', CTDB_BASE: `${peerBase}/node.${pnn}` }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    ch.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    ch.on('error', () => resolve({ status: null, stdout }));
    ch.on('close', (status) => resolve({ status, stdout }));
  }) };
}

/** ctdb-ng's CLI code, in this process, against node directory `nodeBase(pnn)`. */
export function ctdbngProbe(nodeBase: (pnn: number) => string): CliProbe {
  const call = async (pnn: number, args: readonly string[]): Promise<CliAnswer> => {
    let stdout = '';
    const status = await runCtdbng(['-T', '5', ...args], {
      stdout: (s) => { stdout += s; },
      stderr: () => undefined, // "cannot reach dbd" while it starts: just not ready yet
      env: { ...process.env, CTDBNG_BASE: nodeBase(pnn) },
      stderrIsTty: false,
      connect: (o) => connect(o),
    }).catch(() => null); // a throw (dbd half started) is "not ready yet": the poll asks again
    return { status, stdout };
  };
  return { okImpliesRecovered: false, call };
}
