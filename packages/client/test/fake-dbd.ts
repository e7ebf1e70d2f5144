// A tiny fake dbd for the client's unit tests: a ZeroMQ ROUTER on an ipc socket in a temp dir,
// answering each request with what the test's handler returns (nothing: no reply).
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { RequestBody } from '../src/connection.js';

export type Handler = (env: Envelope, fake: FakeDbd) => RequestBody | undefined;

export interface HelloOptions {
  pnn?: number;
  incarnation?: number;
  host?: string;
}

export class FakeDbd {
  readonly received: Envelope[] = [];
  handler: Handler = () => ({ ok: {} });
  answerHello = true;
  private readonly router = new Router({ linger: 0 });
  private peer: Buffer | undefined;
  private sending: Promise<void> = Promise.resolve();
  private readonly loop: Promise<void>;

  private constructor(readonly dir: string, readonly socket: string, readonly hello: Required<HelloOptions>) {
    this.loop = this.receive();
  }

  static async start(hello: HelloOptions = {}): Promise<FakeDbd> {
    const dir = mkdtempSync(join(tmpdir(), 'ctdbng-client-'));
    mkdirSync(join(dir, 'run'));
    const socket = join(dir, 'run', 'dbd.sock');
    const full = { pnn: 0, incarnation: 7, host: hostname(), ...hello };
    const fake = new FakeDbd(dir, socket, full);
    await fake.router.bind(`ipc://${socket}`);
    return fake;
  }

  /** Requests received, Hello excluded. */
  requests(kind?: string): Envelope[] {
    return this.received.filter((e) => e.body !== 'hello' && (kind === undefined || e.body === kind));
  }

  /** Sends a reply (or a push, requestId 0) to the last client that spoke. */
  send(init: EnvelopeInit): void {
    const peer = this.peer;
    if (peer === undefined) throw new Error('fake dbd: no client yet');
    const frame = encodeEnvelope(init);
    this.sending = this.sending.then(() => this.router.send([peer, frame]));
  }

  reply(to: Envelope, body: RequestBody): void {
    this.send({ ...body, requestId: to.requestId });
  }

  private async receive(): Promise<void> {
    try {
      for await (const [peer, frame] of this.router) {
        if (peer === undefined || frame === undefined) continue;
        this.peer = peer;
        const decoded = decodeEnvelope(frame);
        if (!decoded.ok) throw decoded.error;
        this.answer(decoded.envelope);
      }
    } catch (err) {
      if (!this.router.closed) throw err;
    }
  }

  private answer(env: Envelope): void {
    this.received.push(env);
    if (env.body === 'hello' && !this.answerHello) return;
    const h = this.hello;
    const body = env.body === 'hello'
      ? { helloReply: { pnn: h.pnn, incarnation: h.incarnation, clientId: 'client-1', host: h.host } }
      : this.handler(env, this);
    if (body !== undefined) this.reply(env, body);
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
    await this.sending.catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
