// Reaching a node's dbd from the launcher: wait for its socket, connect the client library
// directly (no CLI processes), poll with short intervals (DESIGN §11: speed).
import { existsSync } from 'node:fs';
import type { Client } from '@ctdbng/client';
import { nodePaths } from './paths.js';
export { sleepMs } from './sleep.js';

/** Poll interval while waiting for a daemon. */
export const pollIntervalMs = 20;
/** Hello timeout of one connection attempt; the socket file exists by then. */
const connectAttemptTimeoutMs = 1_000;
/** Timeout of one request while polling. */
export const pollRequestTimeoutMs = 500;

/** One attempt: a connected client whose dbd answered Ping, or undefined. */
export async function tryConnect(dir: string, name: string): Promise<Client | undefined> {
  if (!existsSync(nodePaths.socket(dir))) return undefined;
  let client: Client | undefined;
  try {
    // Loaded on first use: the launcher starts the supervisors while the client library loads.
    // ZMTP spoken by the client itself: `ctdbng-cluster status` does not load libzmq.
    const { connect } = await import('@ctdbng/client');
    client = await connect({ base: dir, name, timeoutMs: connectAttemptTimeoutMs, transport: 'zmtp' });
    await client.ping({ timeoutMs: pollRequestTimeoutMs });
    return client;
  } catch {
    // Not up yet (or restarting): the caller polls again.
    await client?.close().catch(() => undefined);
    return undefined;
  }
}
