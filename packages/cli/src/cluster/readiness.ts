// `up` returns when every node is ready (DESIGN §11): when recoverd's first recovery is done
// everywhere.
import { readFileSync } from 'node:fs';
import type { Client, NodeState } from '@ctdbng/client';
import { nodeDir, nodePaths } from './layout.js';
import { pollIntervalMs, pollRequestTimeoutMs, sleepMs, tryConnect } from './node-client.js';
import { isAlive, readPid } from './pids.js';

export class NodeNotReadyError extends Error {
  override readonly name = 'NodeNotReadyError';
  constructor(readonly pnn: number, message: string) {
    super(message);
  }
}

/**
 * Why node `pnn` of a cluster of `pnns` has not finished its first recovery; undefined once it
 * has. `witnesses` are in no vnnmap (DESIGN §1); every node's links must be up all the same.
 */
export function notRecoveredReason(s: NodeState, pnn: number, pnns: readonly number[], witnesses: readonly number[] = []): string | undefined {
  const sorted = [...s.vnnmap].sort((a, b) => a - b);
  const members = pnns.filter((p) => !witnesses.includes(p)).sort((a, b) => a - b);
  if (s.generation === 0) return 'no generation yet (no recovery has run)';
  if (s.frozen) return `frozen (recovery of generation ${s.generation} not finished)`;
  if (s.leader === null) return 'no leader known';
  if (s.stopped || s.banned || s.inactive) return `not active (stopped ${s.stopped}, banned ${s.banned}, inactive ${s.inactive})`;
  if (sorted.length !== members.length || !sorted.every((p, i) => p === members[i])) return `vnnmap [${s.vnnmap.join(',')}], not every node`;
  const down = pnns.filter((p) => p !== pnn && !s.linksUp.includes(p));
  return down.length === 0 ? undefined : `no link to node(s) ${down.join(',')}`;
}

/**
 * Polls node `pnn` of a cluster of `pnns` until it has finished a recovery (notRecoveredReason)
 * and resolves with the generation it then reports;
 * NodeNotReadyError when its supervisor dies or the deadline passes.
 */
export async function waitNodeReady(base: string, pnn: number, pnns: readonly number[], deadlineMs: number, witnesses: readonly number[] = []): Promise<number> {
  const dir = nodeDir(base, pnn);
  let client: Client | undefined;
  let why = 'dbd does not answer';
  try {
    for (;;) {
      // Alive is enough here: right after spawn, /proc/<pid>/cmdline still shows the launcher
      // (before exec), so the marker check of livePid would call a starting supervisor dead.
      const supervisor = readPid(nodePaths.pidFile(dir, 'supervisor'));
      if (supervisor === undefined || !isAlive(supervisor)) {
        throw new NodeNotReadyError(pnn, `node ${pnn}: its supervisor is not running`);
      }
      client ??= await tryConnect(dir, 'ctdbng-cluster');
      const seen = client === undefined ? 'error' : await readiness(client, pnn, pnns, witnesses);
      if (typeof seen === 'number') return seen;
      if (seen !== 'error') why = seen.notReady;
      if (seen === 'error') {
        // dbd restarting: connect afresh on the next round.
        await client?.close().catch(() => undefined);
        client = undefined;
      }
      if (Date.now() >= deadlineMs) throw new NodeNotReadyError(pnn, `node ${pnn}: not ready in time: ${why}`);
      await sleepMs(pollIntervalMs);
    }
  } finally {
    await client?.close().catch(() => undefined);
  }
}

type Readiness = number | { notReady: string } | 'error';

/** The generation when the node is ready, else why not, or 'error' when it did not answer. */
async function readiness(client: Client, pnn: number, pnns: readonly number[], witnesses: readonly number[]): Promise<Readiness> {
  try {
    const s = await client.getNodeState({ timeoutMs: pollRequestTimeoutMs });
    const notReady = notRecoveredReason(s, pnn, pnns, witnesses);
    return notReady === undefined ? s.generation : { notReady };
  } catch {
    return 'error'; // dbd restarting or busy: polled again
  }
}

/** The last `count` lines of a file, or a note that it is missing. */
export function tailLines(path: string, count: number): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [`(no ${path})`];
  }
  return text.trimEnd().split('\n').slice(-count);
}
