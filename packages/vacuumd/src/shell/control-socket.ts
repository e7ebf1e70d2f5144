// vacuumd's control socket: ROUTER ipc://$CTDBNG_BASE/run/vacuumd.sock (mode 0660). It serves
// one request, VacuumNow (`ctdbng vacuum [DB]`): one full pass now, answered when done with
// VacuumNowReply. Anything else — an undecodable frame, another body — gets a typed Error reply.
import { Router } from 'zeromq';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { decodeEnvelope, encodeEnvelope, ErrorCode, frameBytesMax, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Logger } from '@ctdbng/common';
import { SendQueue } from '@ctdbng/common';

export const controlSendQueueMax = 10_000;

export class ControlSocket {
  private readonly router = new Router({ linger: 0, mandatory: false, maxMessageSize: frameBytesMax });
  private readonly queue: SendQueue;
  private closed = false;

  constructor(private readonly path: string, private readonly log: Logger, private readonly onRequest: (env: Envelope) => Promise<EnvelopeInit>) {
    this.queue = new SendQueue(this.router, controlSendQueueMax, (err) => this.log.debug({ err: String(err) }, 'control reply not delivered'));
  }

  async bind(): Promise<void> {
    if (existsSync(this.path)) rmSync(this.path);
    await this.router.bind(`ipc://${this.path}`);
    chmodSync(this.path, 0o660);
  }

  async run(): Promise<void> {
    try {
      for await (const frames of this.router) {
        const identity = Buffer.from(frames[0]!);
        const last = frames[frames.length - 1];
        if (frames.length < 2 || last === undefined) continue;
        const dec = decodeEnvelope(last);
        if (!dec.ok) {
          this.reply(identity, { requestId: dec.error.requestId, error: { code: dec.error.code, message: dec.error.message } });
          continue;
        }
        const env = dec.envelope;
        void this.onRequest(env).then(
          (out) => this.reply(identity, { ...out, requestId: env.requestId }),
          (err: unknown) => this.reply(identity, { requestId: env.requestId, error: { code: ErrorCode.ERR_INTERNAL, message: String(err) } }),
        );
      }
    } catch (err) {
      if (!this.closed) this.log.error({ err: String(err), socket: this.path }, 'control socket failed');
    }
  }

  private reply(identity: Buffer, env: EnvelopeInit): void {
    if (!this.closed) this.queue.push([identity, encodeEnvelope(env)]);
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    this.router.close();
  }
}
