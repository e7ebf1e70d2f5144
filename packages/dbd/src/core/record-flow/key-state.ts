// Per-key state of the record flow (DESIGN §2.1): the FIFO of waiters (local lock and read
// requests, and calls from other nodes deferred here), the call this node has in flight for
// the key, and whether the key is marked in the locks table for a waiter of ours.
import type { BodyOf } from '@ctdbng/protocol';

export interface LocalWaiter {
  kind: 'lock' | 'fetch';
  clientId: string;
  requestId: number;
  pid: number;
  sinceNs: number;
}

export interface CallWaiter {
  kind: 'call';
  call: BodyOf<'callRequest'>;
  sinceNs: number;
}

export type Waiter = LocalWaiter | CallWaiter;

export interface InflightCall {
  callId: number;
  sentNs: number;
  to: number;
}

export interface KeyState {
  readonly mapKey: string;
  readonly key: Buffer;
  readonly waiters: Waiter[];
  inflight: InflightCall | undefined;
  /** This node marked the key (pending_migration) so shared-access clients leave it to us. */
  marked: boolean;
  /** A poll timer for a lock held by someone dbd cannot hear from (a shared-access client). */
  pollDelayMs: number;
  pollArmed: boolean;
}

export function mapKeyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export function keyStateOf(keys: Map<string, KeyState>, key: Uint8Array): KeyState {
  const mk = mapKeyOf(key);
  let ks = keys.get(mk);
  if (ks === undefined) {
    ks = { mapKey: mk, key: Buffer.from(key), waiters: [], inflight: undefined, marked: false, pollDelayMs: 0, pollArmed: false };
    keys.set(mk, ks);
  }
  return ks;
}

/** Drops the state of an idle key so the map does not grow with the keyspace. */
export function releaseIfIdle(keys: Map<string, KeyState>, ks: KeyState): void {
  if (ks.waiters.length === 0 && ks.inflight === undefined && !ks.marked && !ks.pollArmed) keys.delete(ks.mapKey);
}
