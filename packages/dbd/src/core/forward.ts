// Controls for another node (-n PNN, DESIGN §10): the local dbd wraps the client's envelope in a
// ControlForward to that node and relays the ControlForwardReply, or ERR_TIMEOUT.
import { ErrorCode, decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from './ctx.js';

interface PendingForward {
  reply: (body: EnvelopeInit) => void;
  target: number;
}

export const forwardsMax = 4096;

export class ControlForwarder {
  private readonly pending = new Map<number, PendingForward>();
  private nextId = 1;

  constructor(private readonly ctx: Ctx) {}

  forward(target: number, env: Envelope, reply: (body: EnvelopeInit) => void): void {
    const { ctx } = this;
    const node = ctx.cfg.nodes.nodes[target];
    if (node === undefined || node.deleted) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_NODE, message: `no node ${target}` } });
    if (!ctx.linksUp.has(target)) return reply({ error: { code: ErrorCode.ERR_NODE_UNREACHABLE, message: `node ${target} is not connected` } });
    if (this.pending.size >= forwardsMax) return reply({ error: { code: ErrorCode.ERR_BUSY, message: 'too many forwarded controls' } });
    const id = this.nextId++;
    this.pending.set(id, { reply, target });
    const inner = encodeEnvelope({ requestId: id, [env.body!]: env[env.body!] } as EnvelopeInit);
    ctx.sendNode(target, { controlForward: { forwardId: id, envelope: inner } });
    ctx.io.setTimer(`forward:${id}`, ctx.tunables.controlTimeoutMs);
  }

  onReply(msg: { forwardId: number; envelope: Uint8Array }): void {
    const p = this.pending.get(msg.forwardId);
    if (p === undefined) return;
    this.pending.delete(msg.forwardId);
    this.ctx.io.cancelTimer(`forward:${msg.forwardId}`);
    const dec = decodeEnvelope(msg.envelope);
    if (!dec.ok) return p.reply({ error: { code: dec.error.code, message: `reply from node ${p.target}: ${dec.error.message}` } });
    const body = dec.envelope.body!;
    p.reply({ [body]: dec.envelope[body] } as EnvelopeInit);
  }

  onTimeout(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.reply({ error: { code: ErrorCode.ERR_TIMEOUT, message: `node ${p.target} did not answer within ControlTimeout` } });
  }
}
