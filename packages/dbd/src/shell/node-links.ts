// Node links (DESIGN §2.1.9, §7): this node receives on its node ROUTER (tcp://<ip>:<node port>)
// and sends to node B only over its own DEALER connected to B's ROUTER (ZMQ_IMMEDIATE, bounded
// send queue). The DEALER's handshake/disconnect events are the link's up/down.
import { Dealer, Router } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { FaultSwitch, Logger, NodesFile } from '@ctdbng/common';
import { SendQueue, zmqReconnect } from '@ctdbng/common';

export interface NodeLinkHandlers {
  onMessage(env: Envelope): void;
  /** A control without a node header: the leader's recoverd's (replies go back to `peer`). */
  onControl(peer: string, env: Envelope): void;
  onBadFrame(): void;
  onLinkUp(pnn: number): void;
  onLinkDown(pnn: number): void;
}

export const nodeSendQueueMax = 100_000;
export const controlPeersMax = 1024;

export class NodeLinks {
  private readonly router: Router;
  private readonly dealers = new Map<number, { dealer: Dealer; queue: SendQueue }>();
  private readonly routerQueue: SendQueue;
  private readonly controlPeers = new Map<string, Buffer>();

  constructor(
    private readonly pnn: number,
    private readonly nodes: NodesFile,
    private readonly port: number,
    private readonly frameBytesMax: number,
    private readonly log: Logger,
    private readonly h: NodeLinkHandlers,
    private readonly faults?: FaultSwitch,
  ) {
    this.router = new Router({ linger: 0, mandatory: true, maxMessageSize: frameBytesMax, receiveHighWaterMark: 100_000, sendHighWaterMark: 100_000 });
    this.routerQueue = new SendQueue(this.router, nodeSendQueueMax, (err) => {
      // The controller (a recoverd) went away; it asks again when it comes back.
      this.log.debug({ err: String(err) }, 'control reply not delivered');
    });
  }

  /** Replies to a control received on the node ROUTER. */
  reply(peer: string, env: EnvelopeInit): void {
    const id = this.controlPeers.get(peer);
    if (id !== undefined) this.routerQueue.push([id, encodeEnvelope(env)]);
  }

  async bind(address: string): Promise<void> {
    await this.router.bind(`tcp://${address}:${this.port}`);
  }

  connectAll(): void {
    for (const n of this.nodes.nodes) {
      if (n.deleted || n.pnn === this.pnn) continue;
      const dealer = new Dealer({
        linger: 0,
        immediate: true,
        routingId: `n${this.pnn}`,
        sendHighWaterMark: 10_000,
        maxMessageSize: this.frameBytesMax,
        ...zmqReconnect,
      });
      dealer.events.on('handshake', () => this.h.onLinkUp(n.pnn));
      dealer.events.on('disconnect', () => this.h.onLinkDown(n.pnn));
      dealer.connect(`tcp://${n.address}:${this.port}`);
      const queue = new SendQueue(dealer, nodeSendQueueMax, (err) => {
        this.log.warn({ peer: n.pnn, err: String(err) }, 'node message not sent');
      });
      this.dealers.set(n.pnn, { dealer, queue });
    }
  }

  send(to: number, env: EnvelopeInit): void {
    // Fault injection: nothing goes to a node cut off from us (packages/common/src/faults.ts).
    if (this.faults?.dropsTo(to)) return;
    const link = this.dealers.get(to);
    if (link === undefined) {
      this.log.error({ to }, 'message to a node without a link dropped');
      return;
    }
    link.queue.push([encodeEnvelope(env)]);
  }

  async run(): Promise<void> {
    for await (const frames of this.router) {
      const last = frames[frames.length - 1];
      if (frames.length < 2 || last === undefined) {
        this.h.onBadFrame();
        continue;
      }
      const dec = decodeEnvelope(last, this.frameBytesMax);
      if (!dec.ok) {
        // No reply on the node socket: the sender is not known until the envelope decodes.
        this.h.onBadFrame();
        this.log.warn({ code: dec.error.code, message: dec.error.message }, 'bad frame on the node socket dropped');
        continue;
      }
      if (dec.envelope.node === null || dec.envelope.node === undefined) {
        const peer = frames[0]!.toString('hex');
        if (!this.controlPeers.has(peer)) {
          this.controlPeers.set(peer, Buffer.from(frames[0]!));
          if (this.controlPeers.size > controlPeersMax) this.controlPeers.delete(this.controlPeers.keys().next().value!);
        }
        this.h.onControl(peer, dec.envelope);
        continue;
      }
      if (this.faults?.dropsFrom(dec.envelope.node.srcPnn ?? -1)) continue;
      this.h.onMessage(dec.envelope);
    }
  }

  close(): void {
    for (const { dealer, queue } of this.dealers.values()) {
      queue.clear();
      dealer.close();
    }
    this.routerQueue.clear();
    this.router.close();
  }
}
