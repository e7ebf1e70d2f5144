// The client ROUTER (DESIGN §7): ipc://$CTDBNG_BASE/run/dbd.sock, mode 0660. Each frame is
// decoded here; a bad frame gets a typed Error reply (request id 0 when it cannot be read).
import { Router } from 'zeromq';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Logger } from '@ctdbng/common';
import { SendQueue } from '@ctdbng/common';

export interface ClientSocketHandlers {
  onRequest(clientId: string, env: Envelope): void;
  onBadFrame(): void;
  onClientGone(clientId: string): void;
}

export const clientSendQueueMax = 1_000_000;
export const clientIdsMax = 100_000;

export class ClientSocket {
  private readonly router: Router;
  private readonly queue: SendQueue;
  private readonly ids = new Map<string, Buffer>();

  constructor(private readonly path: string, frameBytesMax: number, private readonly log: Logger, private readonly h: ClientSocketHandlers) {
    this.router = new Router({ linger: 0, mandatory: true, maxMessageSize: frameBytesMax, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
    this.queue = new SendQueue(this.router, clientSendQueueMax, (err, frames) => {
      const id = Buffer.from(frames[0] as Uint8Array).toString('hex');
      // EHOSTUNREACH from a mandatory ROUTER: the client disconnected; forget it.
      this.log.debug({ client: id, err: String(err) }, 'reply to a client not delivered');
      this.ids.delete(id);
      this.h.onClientGone(id);
    });
  }

  async bind(): Promise<void> {
    if (existsSync(this.path)) rmSync(this.path);
    await this.router.bind(`ipc://${this.path}`);
    chmodSync(this.path, 0o660);
  }

  send(clientId: string, env: EnvelopeInit): void {
    const id = this.ids.get(clientId);
    if (id === undefined) return;
    this.queue.push([id, encodeEnvelope(env)]);
  }

  async run(): Promise<void> {
    for await (const frames of this.router) {
      const identity = frames[0]!;
      const clientId = identity.toString('hex');
      if (!this.ids.has(clientId)) {
        this.ids.set(clientId, Buffer.from(identity));
        // Clients that vanished without a failed reply: forget the oldest past the bound.
        if (this.ids.size > clientIdsMax) this.ids.delete(this.ids.keys().next().value!);
      }
      const last = frames[frames.length - 1];
      if (frames.length < 2 || last === undefined) {
        this.h.onBadFrame();
        continue;
      }
      const dec = decodeEnvelope(last);
      if (!dec.ok) {
        this.h.onBadFrame();
        this.log.debug({ client: clientId, code: dec.error.code }, 'bad frame from a client');
        this.queue.push([identity, encodeEnvelope({ requestId: dec.error.requestId, error: { code: dec.error.code, message: dec.error.message } })]);
        continue;
      }
      this.h.onRequest(clientId, dec.envelope);
    }
  }

  close(): void {
    this.queue.clear();
    this.router.close();
  }
}

