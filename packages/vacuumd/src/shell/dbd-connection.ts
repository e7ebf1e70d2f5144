// vacuumd's connection to its own dbd (packages/dbd/README.md, the client protocol): one DEALER on
// ipc://$CTDBNG_BASE/run/dbd.sock, one Envelope per frame, requests matched to replies by
// request_id. Every request has a timeout (the core's, ControlTimeout) and clears its timer on
// every path; a timeout, a failed send or an undecodable reply rejects with DbdRequestError
// carrying the code. An Error reply resolves like any reply: the core reads it.
import { Dealer } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, ErrorCode, frameBytesMax, type Envelope } from '@ctdbng/protocol';
import type { Logger } from '@ctdbng/common';
import { DbdRequestError, type RequestBody } from '../core/dbd-port.js';
import { SendQueue } from '@ctdbng/common';

/** Requests in flight at most (vacuumd sends one batch at a time; this bounds a bug). */
export const requestsInFlightMax = 10_000;

interface Pending {
  resolve(env: Envelope): void;
  reject(err: Error): void;
}

export class DbdConnection {
  private readonly socket: Dealer;
  private readonly queue: SendQueue;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private closed = false;

  constructor(private readonly path: string, private readonly log: Logger) {
    this.socket = new Dealer({ linger: 0, maxMessageSize: frameBytesMax, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000 });
    this.queue = new SendQueue(this.socket, requestsInFlightMax, (err, frames) => {
      const id = decodeEnvelope(frames[0] as Uint8Array);
      if (id.ok) this.pending.get(Number(id.envelope.requestId))?.reject(new DbdRequestError(ErrorCode.ERR_NODE_UNREACHABLE, `send to dbd failed: ${String(err)}`));
    });
    this.socket.connect(`ipc://${path}`);
  }

  /** Sends one request; resolves with dbd's reply envelope (an Error reply included). */
  roundTrip(body: RequestBody, timeoutMs: number): Promise<Envelope> {
    if (this.closed) return Promise.reject(new DbdRequestError(ErrorCode.ERR_SHUTTING_DOWN, 'connection to dbd closed'));
    if (this.pending.size >= requestsInFlightMax) return Promise.reject(new DbdRequestError(ErrorCode.ERR_BUSY, 'too many requests to dbd in flight'));
    const requestId = this.nextRequestId++;
    const origin = new Error('dbd request');
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        const err = new DbdRequestError(ErrorCode.ERR_TIMEOUT, `no reply from dbd in ${timeoutMs} ms (${Object.keys(body)[0] ?? '?'})`);
        err.stack = `${err.name}: ${err.message}\n${origin.stack?.split('\n').slice(1).join('\n') ?? ''}`;
        reject(err);
      }, timeoutMs);
      this.pending.set(requestId, {
        resolve: (env) => { clearTimeout(timer); this.pending.delete(requestId); resolve(env); },
        reject: (err) => { clearTimeout(timer); this.pending.delete(requestId); reject(err); },
      });
      this.queue.push([encodeEnvelope({ ...body, requestId })]);
    });
  }

  /** The receive loop; resolves when the socket closes. */
  async run(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const last = frames[frames.length - 1];
        if (last === undefined) continue;
        const dec = decodeEnvelope(last);
        if (!dec.ok) {
          this.pending.get(dec.error.requestId)?.reject(new DbdRequestError(dec.error.code, dec.error.message));
          continue;
        }
        // A reply to a request that timed out has nobody waiting: its outcome is decided by the next plan.
        this.pending.get(Number(dec.envelope.requestId))?.resolve(dec.envelope);
      }
    } catch (err) {
      if (!this.closed) this.log.error({ err: String(err), socket: this.path }, 'receive from dbd failed');
    }
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    for (const p of [...this.pending.values()]) p.reject(new DbdRequestError(ErrorCode.ERR_SHUTTING_DOWN, 'vacuumd is stopping'));
    this.socket.close();
  }
}
