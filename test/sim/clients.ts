// Simulated clients (issue 11): each one, on a node, writes or deletes a key of a small keyspace —
// fetch_lock, then store (or delete) with unlock — through dbd's client socket, or through shared
// access over the node's db file, falling back to dbd exactly as the client library does. Every
// outcome goes into the model: acknowledged, failed, or unknown when no answer came in time.
import { ctdbng, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';

const ErrorCode = ctdbng.v1.ErrorCode;
import type { SharedAccessDb } from '@ctdbng/store';
import type { Model, OpOutcome } from './model.js';
import type { Prng } from './prng.js';

/** What a client needs of its node. */
export interface ClientPort {
  readonly pnn: number;
  nowMs(): number;
  /** Sends a client request to the node's dbd; `reply` is called at most once (never when dbd died). */
  request(clientId: string, init: EnvelopeInit, reply: (env: Envelope) => void): void;
  /** A shared-access handle on the node's db (undefined while dbd is down or the db not attached). */
  shared(clientId: string): { db: SharedAccessDb; incarnation: number } | undefined;
  incarnation(): number;
  after(ms: number, run: () => void): void;
  /** A line in the schedule's trace. */
  log(line: string): void;
  dbId: number;
}

export const requestTimeoutMs = 3000;

export class SimClient {
  /** Operations started, and those still waiting for an answer. */
  started = 0;
  busy = false;
  private opSeq = 0;

  constructor(readonly id: string, readonly port: ClientPort, readonly sharedAccess: boolean, private readonly rng: Prng, private readonly model: Model, private readonly keys: readonly string[]) {}

  /**
   * Starts one operation unless one is running; `done` when it ended. A named scenario may say
   * which (`given`); otherwise the key and whether to delete are drawn.
   */
  act(done: () => void = () => undefined, given?: { key: string; del: boolean }): void {
    if (this.busy) return;
    this.busy = true;
    this.started++;
    const key = given?.key ?? this.rng.pick(this.keys);
    const del = given?.del ?? this.rng.chance(0.25);
    const value = del ? '' : `${this.id}#${++this.opSeq}`;
    const op = { key, value, startMs: this.port.nowMs(), pnn: this.port.pnn, incarnation: this.port.incarnation() };
    const finish = (outcome: OpOutcome, why = ''): void => {
      if (outcome !== 'acked') this.port.log(`${this.id} ${del ? 'delete' : 'store'} ${key} ${outcome}${why === '' ? '' : `: ${why}`}`);
      this.model.record({ ...op, outcome, doneMs: this.port.nowMs() });
      this.busy = false;
      done();
    };
    const keyBytes = Buffer.from(key);
    const sa = this.sharedAccess ? this.port.shared(this.id) : undefined;
    if (sa !== undefined) {
      const lock = sa.db.lock(keyBytes);
      if (lock.ok) {
        const w = sa.db.store(keyBytes, lock.token, Buffer.from(value), true);
        if (w.ok) return finish('acked');
        if ('lockLost' in w) return finish('failed', 'shared access: lock lost');
        return this.storeViaDbd(keyBytes, lock.token, value, finish);
      }
    }
    this.send({ fetchLock: { dbId: this.port.dbId, key: keyBytes } }, (env) => {
      if (env.fetchLockReply === null || env.fetchLockReply === undefined) return finish('failed', `fetch_lock: ${errorOf(env)}`);
      this.storeViaDbd(keyBytes, Number(env.fetchLockReply.token), value, finish);
    }, () => finish('failed', 'fetch_lock timed out'), (late) => {
      // Granted after the client gave up: let the lock go, as a client library would on close.
      const token = late.fetchLockReply?.token;
      if (token !== undefined && token !== null) this.port.request(this.id, { unlock: { dbId: this.port.dbId, key: keyBytes, token } }, () => undefined);
    });
  }

  private storeViaDbd(key: Buffer, token: number, value: string, finish: (o: OpOutcome, why?: string) => void): void {
    const body = { store: { dbId: this.port.dbId, key, token, data: Buffer.from(value), delete: value === '', unlock: true } };
    this.send(body, (env) => (env.ok !== null && env.ok !== undefined ? finish('acked') : finish('failed', `store: ${errorOf(env)}`)), () => finish('unknown', 'store timed out'));
  }

  /** A request with a timeout: exactly one of onReply, onTimeout runs; a reply after the timeout goes to onLate. */
  private send(init: EnvelopeInit, onReply: (env: Envelope) => void, onTimeout: () => void, onLate: (env: Envelope) => void = () => undefined): void {
    let settled = false;
    this.port.request(this.id, init, (env) => {
      if (settled) return onLate(env);
      settled = true;
      onReply(env);
    });
    this.port.after(requestTimeoutMs, () => {
      if (settled) return;
      settled = true;
      onTimeout();
    });
  }
}

function errorOf(env: Envelope): string {
  return env.error === null || env.error === undefined ? 'no error and no reply body' : `${ErrorCode[env.error.code ?? 0] ?? env.error.code} ${env.error.message ?? ''}`.trim();
}
