// Controls to dbds (DESIGN §7): one DEALER per dbd — to its node ROUTER (tcp, for the leader's
// controls; no `node` header, so dbd treats them as controls) and to the local client socket
// (ipc, for GetNodeState/SetActive/SetLeader). Requests carry a request_id; the reply echoes it.
// ZMQ_IMMEDIATE + sendTimeout 0: a control to a node that is not connected fails at once
// instead of waiting in a queue and landing late. `dbdRequests` adapts these promise-based
// connections to the core's contract: a request id now, the answer later as core.onReply.
import { Dealer } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, frameBytesMax, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { requestViaPromise, RequestIds, SendQueue, zmqReconnect, type FaultSwitch, type Logger, type NodeConfig, type ReplyResult, type RequestId } from '@ctdbng/common';
import type { RequestFn } from '../core/io.js';

/** Requests waiting for a reply on one connection at most. */
export const pendingRequestsMax = 100_000;
export const sendQueueLengthMax = 10_000;

export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
}

interface Pending {
  resolve(env: Envelope): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class DealerRpc {
  private readonly dealer: Dealer;
  private readonly queue: SendQueue;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly endpoint: string, private readonly log: Logger) {
    this.dealer = new Dealer({
      linger: 0,
      immediate: true,
      sendTimeout: 0,
      sendHighWaterMark: 10_000,
      maxMessageSize: frameBytesMax,
      ...zmqReconnect,
    });
    this.queue = new SendQueue(this.dealer, sendQueueLengthMax);
  }

  connect(): void {
    this.dealer.connect(this.endpoint);
    void this.run();
  }

  request(body: EnvelopeInit, timeoutMs: number): Promise<Envelope> {
    // Created here so that a timeout's stack names the caller.
    const timeout = new RpcTimeoutError(`no reply from ${this.endpoint} within ${timeoutMs} ms`);
    return new Promise<Envelope>((resolve, reject) => {
      if (this.closed) return reject(new Error(`connection to ${this.endpoint} closed`));
      if (this.pending.size >= pendingRequestsMax) return reject(new Error(`${pendingRequestsMax} requests pending on ${this.endpoint}`));
      const requestId = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(timeout);
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.queue.push([encodeEnvelope({ ...body, requestId })], (err) => this.fail(requestId, err));
    });
  }

  private fail(requestId: number, err: unknown): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    const why = err instanceof Error ? err.message : String(err);
    p.reject(new Error(`${this.endpoint} unreachable: ${why}`, { cause: err }));
  }

  private async run(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        const last = frames[frames.length - 1];
        if (last === undefined) continue;
        const dec = decodeEnvelope(last);
        if (!dec.ok) {
          this.log.warn({ endpoint: this.endpoint, code: dec.error.code }, 'undecodable reply from dbd dropped');
          continue;
        }
        const id = Number(dec.envelope.requestId);
        const p = this.pending.get(id);
        if (p === undefined) continue; // a reply that came after its timeout
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(dec.envelope);
      }
    } catch (err) {
      if (!this.closed) this.log.error({ endpoint: this.endpoint, err }, 'dbd connection failed');
    }
  }

  close(): void {
    this.closed = true;
    this.queue.close();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection to ${this.endpoint} closed`));
      this.pending.delete(id);
    }
    this.dealer.close();
  }
}

/** The leader's connections to every node's dbd (node ROUTER), one DEALER each. */
export class NodeRpc {
  private readonly byPnn = new Map<number, DealerRpc>();

  constructor(cfg: NodeConfig, log: Logger, private readonly faults?: FaultSwitch) {
    for (const n of cfg.nodes.nodes) {
      if (n.deleted) continue;
      this.byPnn.set(n.pnn, new DealerRpc(`tcp://${n.address}:${cfg.nodePort}`, log));
    }
  }

  connect(): void {
    for (const r of this.byPnn.values()) r.connect();
  }

  request(pnn: number, body: EnvelopeInit, timeoutMs: number): Promise<Envelope> {
    const r = this.byPnn.get(pnn);
    if (r === undefined) return Promise.reject(new Error(`node ${pnn} is not in the nodes file`));
    // Fault injection: a node cut off from us does not answer (packages/common/src/faults.ts).
    if (this.faults?.blocked(pnn)) return Promise.reject(new Error(`node ${pnn} is cut off (fault switch)`));
    return r.request(body, timeoutMs);
  }

  close(): void {
    for (const r of this.byPnn.values()) r.close();
  }
}

/**
 * The core's `request`: a control to node `pnn` over the node socket, or to the own dbd ('own')
 * over the client socket. The answer is handed to `deliver` (core.onReply) on a later turn.
 */
export function dbdRequests(nodes: NodeRpc, own: DealerRpc, deliver: (id: RequestId, result: ReplyResult) => void): RequestFn {
  const ids = new RequestIds();
  return (to, body, timeoutMs) => requestViaPromise(ids, () => (to === 'own' ? own.request(body, timeoutMs) : nodes.request(to, body, timeoutMs)), deliver);
}
