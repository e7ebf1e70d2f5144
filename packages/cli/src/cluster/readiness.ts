// `up` returns when every node answers Ping and reports the static vnnmap (DESIGN §11).
import { readFileSync } from 'node:fs';
import type { Client } from '@ctdbng/client';
import { nodeDir, nodePaths } from './layout.js';
import { pollIntervalMs, pollRequestTimeoutMs, sleepMs, tryConnect } from './node-client.js';
import { isAlive, readPid } from './pids.js';

export interface ExpectedVnnMap {
  generation: number;
  pnns: readonly number[];
}

export class NodeNotReadyError extends Error {
  override readonly name = 'NodeNotReadyError';
  constructor(readonly pnn: number, message: string) {
    super(message);
  }
}

export function vnnmapMatches(v: { generation: number; pnns: readonly number[] }, want: ExpectedVnnMap): boolean {
  return v.generation === want.generation && v.pnns.length === want.pnns.length && v.pnns.every((p, i) => p === want.pnns[i]);
}

/** Polls node `pnn` until its dbd reports `want`; NodeNotReadyError when its supervisor dies or the deadline passes. */
export async function waitNodeReady(base: string, pnn: number, want: ExpectedVnnMap, deadlineMs: number): Promise<void> {
  const dir = nodeDir(base, pnn);
  let client: Client | undefined;
  try {
    for (;;) {
      // Alive is enough here: right after spawn, /proc/<pid>/cmdline still shows the launcher
      // (before exec), so the marker check of livePid would call a starting supervisor dead.
      const supervisor = readPid(nodePaths.pidFile(dir, 'supervisor'));
      if (supervisor === undefined || !isAlive(supervisor)) {
        throw new NodeNotReadyError(pnn, `node ${pnn}: its supervisor is not running`);
      }
      client ??= await tryConnect(dir, 'ctdbng-cluster');
      const seen = client === undefined ? 'error' : await reportsVnnmap(client, want);
      if (seen === 'match') return;
      if (seen === 'error') {
        // dbd restarting: connect afresh on the next round.
        await client?.close().catch(() => undefined);
        client = undefined;
      }
      if (Date.now() >= deadlineMs) throw new NodeNotReadyError(pnn, `node ${pnn}: not ready in time`);
      await sleepMs(pollIntervalMs);
    }
  } finally {
    await client?.close().catch(() => undefined);
  }
}

async function reportsVnnmap(client: Client, want: ExpectedVnnMap): Promise<'match' | 'mismatch' | 'error'> {
  try {
    return vnnmapMatches(await client.getVnnMap({ timeoutMs: pollRequestTimeoutMs }), want) ? 'match' : 'mismatch';
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
