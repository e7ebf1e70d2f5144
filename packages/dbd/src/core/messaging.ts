// Cluster messaging (DESIGN §6): clients register srvids; a message goes to (pnn | ALL, srvid)
// and reaches every client registered for the srvid on the destination node(s), once.
import { ErrorCode, pnnAll, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from './ctx.js';

export const srvidsPerClientMax = 1024;

export class Messaging {
  private readonly bySrvid = new Map<number, Set<string>>();
  private readonly byClient = new Map<string, Set<number>>();

  constructor(private readonly ctx: Ctx) {}

  register(clientId: string, srvid: number): EnvelopeInit | undefined {
    let mine = this.byClient.get(clientId);
    if (mine === undefined) {
      mine = new Set();
      this.byClient.set(clientId, mine);
    }
    if (!mine.has(srvid) && mine.size >= srvidsPerClientMax) {
      return { error: { code: ErrorCode.ERR_BUSY, message: `a client may register at most ${srvidsPerClientMax} srvids` } };
    }
    mine.add(srvid);
    let set = this.bySrvid.get(srvid);
    if (set === undefined) {
      set = new Set();
      this.bySrvid.set(srvid, set);
    }
    set.add(clientId);
    return undefined;
  }

  deregister(clientId: string, srvid: number): void {
    this.byClient.get(clientId)?.delete(srvid);
    const set = this.bySrvid.get(srvid);
    set?.delete(clientId);
    if (set?.size === 0) this.bySrvid.delete(srvid);
  }

  /** A client is gone (its socket refused a push): drop its registrations. */
  forgetClient(clientId: string): void {
    for (const srvid of this.byClient.get(clientId) ?? []) this.deregister(clientId, srvid);
    this.byClient.delete(clientId);
  }

  /** Routes a client's SendMessage; returns an error body for a bad destination. */
  send(destPnn: number, srvid: number, data: Uint8Array): EnvelopeInit | undefined {
    const { ctx } = this;
    if (destPnn === pnnAll) {
      this.deliver(srvid, data, ctx.pnn);
      for (const p of ctx.peers()) ctx.sendNode(p, { messageForward: { srvid, data, srcPnn: ctx.pnn } });
      return undefined;
    }
    const node = ctx.cfg.nodes.nodes[destPnn];
    if (node === undefined || node.deleted) return { error: { code: ErrorCode.ERR_UNKNOWN_NODE, message: `no node ${destPnn}` } };
    if (destPnn === ctx.pnn) this.deliver(srvid, data, ctx.pnn);
    else ctx.sendNode(destPnn, { messageForward: { srvid, data, srcPnn: ctx.pnn } });
    return undefined;
  }

  deliver(srvid: number, data: Uint8Array, srcPnn: number): void {
    for (const clientId of this.bySrvid.get(srvid) ?? []) {
      this.ctx.stats.inc('messages_delivered');
      this.ctx.io.sendToClient(clientId, { requestId: 0, clientMessage: { srvid, data, srcPnn } });
    }
  }
}
