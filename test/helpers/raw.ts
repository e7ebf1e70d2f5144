// Raw ZeroMQ peers for bad-input tests: a DEALER on a node's client socket or node socket that
// sends any bytes and reads the replies as Envelopes. Closed (linger 0) at the end of the test.
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { decodeEnvelope, type Envelope } from '@ctdbng/protocol';
import type { ClusterFixture } from './cluster.js';

export const replyTimeoutMs = 10_000;

export class RawPeer {
  readonly dealer: Dealer;

  constructor(address: string, o: { routingId?: string } = {}) {
    // linger 0: close never waits for unsent frames; the receive timeout bounds every read.
    this.dealer = new Dealer({ linger: 0, receiveTimeout: replyTimeoutMs, ...(o.routingId ? { routingId: o.routingId } : {}) });
    this.dealer.connect(address);
  }

  async send(frame: Uint8Array): Promise<void> {
    await this.dealer.send(frame);
  }

  /** The next reply, decoded (fails the test when none comes within replyTimeoutMs). */
  async reply(): Promise<Envelope> {
    const frames = await this.dealer.receive();
    const dec = decodeEnvelope(frames[frames.length - 1]!);
    if (!dec.ok) throw new Error(`undecodable reply: ${dec.error.message}`);
    return dec.envelope;
  }

  /** Sends one frame and returns the reply. */
  async request(frame: Uint8Array): Promise<Envelope> {
    await this.send(frame);
    return this.reply();
  }

  close(): void {
    this.dealer.close();
  }
}

/** A raw DEALER on node pnn's client socket (ipc), closed after the test. */
export function rawClient(fx: ClusterFixture, pnn: number): RawPeer {
  const peer = new RawPeer(`ipc://${join(fx.nodeBase(pnn), 'run', 'dbd.sock')}`);
  fx.defer(() => peer.close());
  return peer;
}

/** A raw DEALER on node pnn's node socket (tcp://127.0.0.(pnn+1):<node port>), closed after the test. */
export function rawNodePeer(fx: ClusterFixture, pnn: number, routingId: string): RawPeer {
  const peer = new RawPeer(`tcp://127.0.0.${pnn + 1}:${fx.nodePort}`, { routingId });
  fx.defer(() => peer.close());
  return peer;
}
