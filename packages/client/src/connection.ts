// Transport (DESIGN §7, packages/dbd/README.md): one DEALER on dbd's client socket (transport.ts),
// one protobuf Envelope per frame. Requests are pipelined and matched to replies by request_id;
// pushed ClientMessages (request_id 0) go to onMessage. zeromq.js allows one send in progress per
// socket, so a request sent while another send is in progress waits in a bounded queue.
import { decodeEnvelope, encodeEnvelope, protocolVersion, type Envelope, type EnvelopeInit, type ctdbng } from '@ctdbng/protocol';
import { BadMessageError, BusyError, ConnectionError, TimeoutError, errorFromReply } from './errors.js';
import type { Transport } from './transport.js';

/** The reply bodies a client expects, by Envelope field. */
export interface Replies {
  ok: ctdbng.v1.Ok;
  helloReply: ctdbng.v1.HelloReply;
  pong: ctdbng.v1.Pong;
  attachReply: ctdbng.v1.AttachReply;
  dbMap: ctdbng.v1.DbMap;
  fetchLockReply: ctdbng.v1.FetchLockReply;
  fetchReply: ctdbng.v1.FetchReply;
  traverseBatch: ctdbng.v1.TraverseBatch;
  pnnReply: ctdbng.v1.PnnReply;
  nodeMap: ctdbng.v1.NodeMap;
  vnnMap: ctdbng.v1.VnnMap;
  tunableValue: ctdbng.v1.TunableValue;
  tunableList: ctdbng.v1.TunableList;
  statistics: ctdbng.v1.Statistics;
  nodeState: ctdbng.v1.NodeState;
}
export type ReplyKind = keyof Replies;

/** One request body, e.g. `{ ping: {} }`; the connection adds version and request_id. */
export type RequestBody = Omit<EnvelopeInit, 'version' | 'requestId' | 'targetPnn' | 'node'>;

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Defaults to the connection's timeoutMs. */
  timeoutMs?: number | undefined;
  /** Envelope target_pnn: a control for another node, relayed by the local dbd. */
  targetPnn?: number | undefined;
  /** Called with a reply that arrives after the request timed out or was aborted (a late lock grant). */
  onLateReply?: ((env: Envelope) => void) | undefined;
}

/** Requests queued for sending at most; past it a request fails with BusyError at once. */
export const sendQueueMax = 10_000;
/** Late-reply handlers kept at most (oldest dropped: its lock then ends by lease). */
export const lateRepliesMax = 1_024;

interface Pending {
  resolve(env: Envelope): void;
  reject(err: Error): void;
}

interface Outgoing {
  frame: Uint8Array;
  requestId: number;
}

/** Gives err the stack of the call that sent the request (nats.js style). */
function withCallerStack<E extends Error>(err: E, origin: Error): E {
  const frames = origin.stack?.split('\n').slice(1).join('\n');
  if (frames !== undefined && frames !== '') err.stack = `${err.name}: ${err.message}\n${frames}`;
  return err;
}

export class Connection {
  onMessage: (m: ctdbng.v1.ClientMessage) => void = () => {};
  private readonly pending = new Map<number, Pending>();
  private readonly late = new Map<number, (env: Envelope) => void>();
  private readonly sendQueue: Outgoing[] = [];
  private readonly receiving: Promise<void>;
  private draining = false;
  private closed = false;
  private nextRequestId = 1;

  /** `address` names the socket in messages; `socket` is already connecting to it. */
  constructor(readonly address: string, readonly timeoutMs: number, private readonly socket: Transport) {
    this.receiving = this.receiveLoop();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one request and resolves with the reply body named by reply; Error replies reject typed. */
  async request<R extends ReplyKind>(body: RequestBody, reply: R, opts: RequestOptions = {}): Promise<Replies[R]> {
    const origin = new Error('ctdbng request');
    const env = await this.roundTrip(body, opts, origin);
    const value = env[reply];
    if (env.body !== reply || value === null || value === undefined) {
      throw withCallerStack(new BadMessageError(`expected ${reply}, got ${env.body ?? 'no body'}`), origin);
    }
    return value as Replies[R];
  }

  private roundTrip(body: RequestBody, opts: RequestOptions, origin: Error): Promise<Envelope> {
    if (this.closed) return Promise.reject(withCallerStack(new ConnectionError('client is closed'), origin));
    if (opts.signal?.aborted === true) return Promise.reject(opts.signal.reason);
    if (this.sendQueue.length >= sendQueueMax) {
      return Promise.reject(withCallerStack(new BusyError(`send queue full (${sendQueueMax} requests)`), origin));
    }
    const requestId = this.nextRequestId++;
    const frame = encodeEnvelope({ version: protocolVersion, ...body, requestId, targetPnn: opts.targetPnn });
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise<Envelope>((resolve, reject) => {
      const signal = opts.signal;
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(requestId);
      };
      const giveUp = (err: unknown): void => {
        settle();
        if (opts.onLateReply !== undefined) this.keepLate(requestId, opts.onLateReply);
        reject(err);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      const timer = setTimeout(() => giveUp(withCallerStack(new TimeoutError(`no reply from dbd in ${timeoutMs} ms`), origin)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(requestId, {
        resolve: (env) => { settle(); resolve(env); },
        reject: (err) => { settle(); reject(withCallerStack(err, origin)); },
      });
      this.enqueue({ frame, requestId });
    });
  }

  private keepLate(requestId: number, handler: (env: Envelope) => void): void {
    if (this.late.size >= lateRepliesMax) {
      const oldest = this.late.keys().next();
      if (oldest.done !== true) this.late.delete(oldest.value);
    }
    this.late.set(requestId, handler);
  }

  /** Sends at once when no send is in progress (the common case), else queues behind it. */
  private enqueue(out: Outgoing): void {
    if (this.draining) {
      this.sendQueue.push(out);
      return;
    }
    this.draining = true;
    this.sendOne(out);
  }

  private sendOne(out: Outgoing): void {
    const failed = (err: unknown): void => {
      this.pending.get(out.requestId)?.reject(new ConnectionError('send to dbd failed', { cause: err }));
      this.sent();
    };
    let sending: Promise<void>;
    try {
      sending = this.socket.send(out.frame);
    } catch (err) {
      // A socket closed under us throws at once instead of rejecting.
      failed(err);
      return;
    }
    sending.then(this.sent, failed);
  }

  /** The send in progress is done: the next queued request goes, or the queue is idle again. */
  private readonly sent = (): void => {
    for (let out = this.sendQueue.shift(); out !== undefined && !this.closed; out = this.sendQueue.shift()) {
      if (!this.pending.has(out.requestId)) {
        // Timed out or aborted before it left: not sent, so no late reply will come.
        this.late.delete(out.requestId);
        continue;
      }
      this.sendOne(out);
      return;
    }
    this.draining = false;
  };

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const last = frames[frames.length - 1];
        if (last !== undefined) this.dispatch(last);
      }
    } catch (err) {
      if (!this.closed) this.failAll(() => new ConnectionError('receive from dbd failed', { cause: err }));
    }
  }

  private dispatch(frame: Uint8Array): void {
    const decoded = decodeEnvelope(frame);
    if (!decoded.ok) {
      // An unreadable reply fails the request it names; one naming none has nobody to tell.
      const { code, message, requestId } = decoded.error;
      this.pending.get(requestId)?.reject(errorFromReply(code, message));
      return;
    }
    const env = decoded.envelope;
    if (env.requestId === 0) {
      if (env.body === 'clientMessage' && env.clientMessage) this.onMessage(env.clientMessage as ctdbng.v1.ClientMessage);
      return;
    }
    const p = this.pending.get(env.requestId);
    if (p === undefined) {
      this.dispatchLate(env);
      return;
    }
    if (env.body === 'error') p.reject(errorFromReply(env.error?.code ?? 0, env.error?.message ?? ''));
    else p.resolve(env);
  }

  private dispatchLate(env: Envelope): void {
    const handler = this.late.get(env.requestId);
    if (handler === undefined) return;
    this.late.delete(env.requestId);
    if (env.body !== 'error') handler(env);
  }

  private failAll(make: () => Error): void {
    for (const p of [...this.pending.values()]) p.reject(make());
  }

  /** Rejects every pending request with ConnectionError and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(() => new ConnectionError('client closed'));
    this.sendQueue.length = 0;
    this.late.clear();
    this.socket.close();
    await this.receiving;
  }
}
