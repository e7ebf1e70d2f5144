// The client of one node's dbd (DESIGN §6, §7, §10; packages/dbd/README.md): connect and Hello,
// databases, controls (optionally for another node through the local dbd) and cluster messages.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pnnAll, type ctdbng } from '@ctdbng/protocol';
import { Connection, type RequestOptions } from './connection.js';
import { openTransport, type TransportKind } from './transport.js';
import { ConnectionError, TimeoutError, UnknownDbError } from './errors.js';
import { SharedAccess } from './shared-access.js';
import { Db } from './db.js';
import { HeldLocks } from './held-locks.js';
import { toBuffer, type Bytes } from './bytes.js';
import { nodeStateOf, setNodeFlagsOf, type NodeFlagsChange, type NodeState } from './node-state.js';
import type { CallOptions, ClientContext, DbInfo, NodeOptions } from './types.js';

export interface ConnectOptions {
  /** The node's directory; defaults to process.env.CTDBNG_BASE. The socket is <base>/run/dbd.sock. */
  base?: string;
  /** The ipc socket path; overrides base. */
  socket?: string;
  /** Lock and store local records in the db file directly (DESIGN §2.2). Default false. */
  sharedAccess?: boolean;
  /** Sent in Hello; shows in dbd's logs. */
  name?: string;
  /** Default request timeout. */
  timeoutMs?: number;
  /**
   * 'zeromq' (default): libzmq's DEALER. 'zmtp': ZMTP 3.0 spoken by the client itself, which
   * starts ~8 ms sooner (no libzmq to load): for short-lived processes such as `ctdbng`.
   */
  transport?: TransportKind;
}

export const timeoutMsDefault = 30_000;

export interface ClientMessageEvent {
  srvid: number;
  data: Buffer;
  srcPnn: number;
}

export interface TunableInfo {
  name: string;
  value: number;
  unit: string;
  doc: string;
  defaultValue: number;
}

export interface NodeMapInfo {
  pnn: number;
  nodes: { pnn: number; address: string; flags: string[] }[];
}

function socketPathOf(opts: ConnectOptions): string {
  if (opts.socket !== undefined) return opts.socket;
  const base = opts.base ?? process.env['CTDBNG_BASE'];
  if (base === undefined || base === '') throw new ConnectionError('no dbd socket: set CTDBNG_BASE or pass base or socket');
  return join(base, 'run', 'dbd.sock');
}

/** Connects to the local dbd and says Hello; ConnectionError if the socket is missing or silent. */
export async function connect(opts: ConnectOptions = {}): Promise<Client> {
  const path = socketPathOf(opts);
  try {
    statSync(path);
  } catch (err) {
    throw new ConnectionError(`no dbd socket at ${path}`, { cause: err });
  }
  const timeoutMs = opts.timeoutMs ?? timeoutMsDefault;
  const conn = new Connection(`ipc://${path}`, timeoutMs, await openTransport(opts.transport ?? 'zeromq', path));
  try {
    const hello = { pid: process.pid, name: opts.name ?? 'ctdbng-client', host: hostname() };
    const reply = await conn.request({ hello }, 'helloReply');
    const shared = await SharedAccess.forConnection(opts.sharedAccess ?? false, reply.host, reply.pnn, reply.incarnation);
    return new Client(conn, reply, shared);
  } catch (err) {
    await conn.close();
    if (err instanceof TimeoutError) throw new ConnectionError(`dbd at ${path} did not answer in ${timeoutMs} ms`, { cause: err });
    throw err;
  }
}

function dbInfoOf(d: ctdbng.v1.DbInfo.$Properties | null | undefined): DbInfo {
  return { id: d?.dbId ?? 0, name: d?.name ?? '', persistent: d?.persistent ?? false, path: d?.path ?? '' };
}

function nodeRequest(o: NodeOptions): RequestOptions {
  return { signal: o.signal, timeoutMs: o.timeoutMs, targetPnn: o.pnn };
}

export class Client {
  readonly pnn: number;
  readonly incarnation: number;
  /** dbd's id for this connection (HelloReply.client_id). */
  readonly clientId: string;
  private readonly ctx: ClientContext;
  private readonly handlers = new Map<number, (m: ClientMessageEvent) => void>();
  private closing: Promise<void> | undefined;

  /** Use connect(). */
  constructor(private readonly conn: Connection, hello: ctdbng.v1.HelloReply, shared: SharedAccess | undefined) {
    this.pnn = hello.pnn;
    this.incarnation = hello.incarnation;
    this.clientId = hello.clientId;
    this.ctx = { conn, shared, locks: new HeldLocks() };
    conn.onMessage = (m) => this.deliver(m);
  }

  /** Rejects pending requests, stops lock renewals, closes the db files and the socket. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    this.ctx.locks.abandonAll();
    this.ctx.shared?.close();
    this.handlers.clear();
    await this.conn.close();
  }

  async ping(o: NodeOptions = {}): Promise<{ pnn: number; uptimeMs: number; rttMs: number }> {
    const start = performance.now();
    const pong = await this.conn.request({ ping: {} }, 'pong', nodeRequest(o));
    return { pnn: pong.pnn, uptimeMs: pong.uptimeMs, rttMs: performance.now() - start };
  }

  /** Attaches a db cluster-wide (idempotent). */
  async attach(name: string, o: CallOptions & { persistent?: boolean } = {}): Promise<Db> {
    const reply = await this.conn.request({ attach: { name, persistent: o.persistent ?? false } }, 'attachReply', o);
    return new Db(this.ctx, dbInfoOf(reply.db));
  }

  /** An attached db by name; UnknownDbError if it is not attached. */
  async db(name: string, o: CallOptions = {}): Promise<Db> {
    const info = (await this.getDbMap(o)).find((d) => d.name === name);
    if (info === undefined) throw new UnknownDbError(`database ${name} is not attached`);
    return new Db(this.ctx, info);
  }

  async getDbMap(o: NodeOptions = {}): Promise<DbInfo[]> {
    const reply = await this.conn.request({ getDbMap: {} }, 'dbMap', nodeRequest(o));
    return reply.dbs.map(dbInfoOf);
  }

  async getPnn(o: NodeOptions = {}): Promise<number> {
    return (await this.conn.request({ getPnn: {} }, 'pnnReply', nodeRequest(o))).pnn;
  }

  async getNodeMap(o: NodeOptions = {}): Promise<NodeMapInfo> {
    const reply = await this.conn.request({ getNodeMap: {} }, 'nodeMap', nodeRequest(o));
    const nodes = reply.nodes.map((n) => ({ pnn: n.pnn ?? 0, address: n.address ?? '', flags: [...(n.flags ?? [])] }));
    return { pnn: reply.pnn, nodes };
  }

  async getVnnMap(o: NodeOptions = {}): Promise<{ generation: number; pnns: number[] }> {
    const reply = await this.conn.request({ getVnnMap: {} }, 'vnnMap', nodeRequest(o));
    return { generation: reply.generation, pnns: [...reply.pnns] };
  }

  async getTunable(name: string, o: NodeOptions = {}): Promise<number> {
    return (await this.conn.request({ getTunable: { name } }, 'tunableValue', nodeRequest(o))).value;
  }

  async setTunable(name: string, value: number, o: NodeOptions = {}): Promise<void> {
    await this.conn.request({ setTunable: { name, value } }, 'ok', nodeRequest(o));
  }

  async listTunables(o: NodeOptions = {}): Promise<TunableInfo[]> {
    const reply = await this.conn.request({ listTunables: {} }, 'tunableList', nodeRequest(o));
    return reply.tunables.map((t) => ({
      name: t.name ?? '', value: t.value ?? 0, unit: t.unit ?? '', doc: t.doc ?? '', defaultValue: t.defaultValue ?? 0,
    }));
  }

  async statistics(o: NodeOptions = {}): Promise<{ pnn: number; counters: Record<string, number> }> {
    const reply = await this.conn.request({ getStatistics: {} }, 'statistics', nodeRequest(o));
    const counters: Record<string, number> = {};
    for (const c of reply.counters) counters[c.name ?? ''] = c.value ?? 0;
    return { pnn: reply.pnn, counters };
  }

  /** The node's state: generation, vnnmap, flags, leader, last recovery (recovery.proto NodeState). */
  async getNodeState(o: NodeOptions = {}): Promise<NodeState> {
    return nodeStateOf(await this.conn.request({ getNodeState: {} }, 'nodeState', nodeRequest(o)));
  }

  /**
   * Stops, continues, bans (for banSeconds) or unbans the node (ctdbng stop/continue/ban/unban).
   * dbd sets the flag at once and asks for a recovery; it does not wait for that recovery.
   */
  async setNodeFlags(change: NodeFlagsChange, o: NodeOptions = {}): Promise<void> {
    await this.conn.request({ setNodeFlags: setNodeFlagsOf(change) }, 'ok', nodeRequest(o));
  }

  /** Asks for a recovery (ctdbng recover); resolves once dbd has passed the request on, not when it is done. */
  async requestRecovery(reason: string, o: NodeOptions = {}): Promise<void> {
    await this.conn.request({ requestRecovery: { reason } }, 'ok', nodeRequest(o));
  }

  /** Receives messages sent to srvid (on any node) as ClientMessages; one handler per srvid. */
  async registerSrvid(srvid: number, handler: (m: ClientMessageEvent) => void, o: CallOptions = {}): Promise<void> {
    await this.conn.request({ registerSrvid: { srvid } }, 'ok', o);
    this.handlers.set(srvid, handler);
  }

  async deregisterSrvid(srvid: number, o: CallOptions = {}): Promise<void> {
    this.handlers.delete(srvid);
    await this.conn.request({ deregisterSrvid: { srvid } }, 'ok', o);
  }

  /** Sends data to the clients registered for srvid on node pnn, or on every node. */
  async sendMessage(pnn: number | 'all', srvid: number, data: Bytes, o: CallOptions = {}): Promise<void> {
    const destPnn = pnn === 'all' ? pnnAll : pnn;
    await this.conn.request({ sendMessage: { destPnn, srvid, data: toBuffer(data) } }, 'ok', o);
  }

  private deliver(m: ctdbng.v1.ClientMessage): void {
    const handler = this.handlers.get(m.srvid);
    if (handler === undefined) return;
    try {
      handler({ srvid: m.srvid, data: Buffer.from(m.data), srcPnn: m.srcPnn });
    } catch (err) {
      // A throwing handler must not stop the receive loop; the process hears of it as a warning.
      process.emitWarning(err instanceof Error ? err : String(err), 'CtdbngClientMessageHandler');
    }
  }
}
