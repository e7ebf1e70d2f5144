// recoverd ↔ recoverd (DESIGN §5.1, §7): a ROUTER bound on tcp://<node address>:<recoverd port>
// receives; a DEALER per peer sends (fire-and-forget: VoteRequest, VoteReply, LeaderBroadcast,
// heartbeats). A message to a peer that is not connected is dropped at once (ZMQ_IMMEDIATE,
// sendTimeout 0): elections and heartbeats are repeated, never queued for later.
import { Dealer, Router } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '@ctdbng/protocol';
import type { FaultSwitch, Logger, NodeConfig } from '@ctdbng/common';
import type { PeerMessage } from '../core/io.js';
import { SendQueue, zmqReconnect } from '@ctdbng/common';

/** recoverd messages are tiny; anything bigger is not ours. */
export const peerFrameBytesMax = 64 * 1024;
export const peerSendQueueLengthMax = 1_000;

export class PeerLinks {
  private readonly router: Router;
  private readonly dealers = new Map<number, { dealer: Dealer; queue: SendQueue }>();
  private closed = false;

  constructor(private readonly cfg: NodeConfig, private readonly log: Logger, private readonly faults?: FaultSwitch) {
    this.router = new Router({ linger: 0, maxMessageSize: peerFrameBytesMax, receiveHighWaterMark: 10_000 });
  }

  async bind(): Promise<void> {
    await this.router.bind(`tcp://${this.cfg.nodeAddress}:${this.cfg.recoverdPort}`);
  }

  connectAll(): void {
    for (const n of this.cfg.nodes.nodes) {
      if (n.deleted || n.pnn === this.cfg.pnn) continue;
      const dealer = new Dealer({
        linger: 0,
        immediate: true,
        sendTimeout: 0,
        sendHighWaterMark: 1_000,
        maxMessageSize: peerFrameBytesMax,
        ...zmqReconnect,
      });
      dealer.connect(`tcp://${n.address}:${this.cfg.recoverdPort}`);
      this.dealers.set(n.pnn, { dealer, queue: new SendQueue(dealer, peerSendQueueLengthMax) });
    }
  }

  send(to: number, msg: PeerMessage): void {
    const link = this.dealers.get(to);
    if (link === undefined || this.faults?.blocked(to)) return;
    link.queue.push([encodeEnvelope(msg)], (err) => {
      // Expected while the peer is down; the next heartbeat or election round repeats it.
      this.log.trace({ peer: to, err: String(err) }, 'recoverd message not sent');
    });
  }

  async run(onMessage: (env: Envelope) => void): Promise<void> {
    try {
      for await (const frames of this.router) {
        const last = frames[frames.length - 1];
        if (frames.length < 2 || last === undefined) continue;
        const dec = decodeEnvelope(last, peerFrameBytesMax);
        if (!dec.ok) {
          this.log.warn({ code: dec.error.code }, 'bad frame on the recoverd socket dropped');
          continue;
        }
        const e = dec.envelope;
        const from = e.voteRequest?.candidate ?? e.voteReply?.voter ?? e.leaderBroadcast?.leader ?? e.recoverdHeartbeat?.pnn;
        // Fault injection: a node cut off from us is not heard (packages/common/src/faults.ts).
        if (from !== undefined && from !== null && this.faults?.blocked(from)) continue;
        onMessage(e);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  close(): void {
    this.closed = true;
    for (const { dealer, queue } of this.dealers.values()) {
      queue.close();
      dealer.close();
    }
    this.router.close();
  }
}
