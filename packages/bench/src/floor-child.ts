// The child processes of the floors (forked by floor-zmq.ts and floor-migration.ts with one JSON
// argument): a bare zeromq.js ROUTER echo, or one node of the migration prototype. A child says
// { type: 'ready' } once bound, and closes its sockets and exits on 'stop' or when the parent goes.
//
// The migration prototype (DESIGN §2.1, reduced to its hops). One key; node `lmaster` always knows
// its dmaster. A client asks node r for the record (FETCH); r is not dmaster, so:
//   r → lmaster (CALL) → dmaster d (CALL) → lmaster (DMASTER_REQ, with the data) → r (DMASTER_REPLY)
// and r answers the client (GRANTED); then the client sends STORE and r answers STORED. The node
// receiving each hop (and STORE) runs one small SQLite write transaction on the project's records
// table (WAL, synchronous=OFF). Messages are fixed 46-byte buffers; no protobuf, no checks.
import { rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Dealer, Router } from 'zeromq';
import { schemaSql } from '@ctdbng/store';

export type FloorChildConfig =
  | { role: 'echo'; endpoints: string[] }
  | { role: 'migration-node'; pnn: number; lmaster: number; dmaster: number; peers: string[]; clientEndpoint: string; dbPath: string };

/** Message types of the migration prototype. */
export const Msg = { FETCH: 1, CALL: 2, DMASTER_REQ: 3, DMASTER_REPLY: 4, GRANTED: 5, STORE: 6, STORED: 7 } as const;

/** type u8, requester u8, seq u32, rsn f64, data 32 bytes. */
export const msgBytes = 46;

export function encodeMsg(type: number, requester: number, seq: number, rsn: number, data?: Buffer): Buffer {
  const b = Buffer.alloc(msgBytes);
  b.writeUInt8(type, 0);
  b.writeUInt8(requester, 1);
  b.writeUInt32LE(seq >>> 0, 2);
  b.writeDoubleLE(rsn, 6);
  data?.copy(b, 14, 0, 32);
  return b;
}

export interface DecodedMsg { type: number; requester: number; seq: number; rsn: number; data: Buffer }

export function decodeMsg(b: Buffer): DecodedMsg {
  if (b.length !== msgBytes) throw new Error(`floor message of ${b.length} bytes, expected ${msgBytes}`);
  return { type: b.readUInt8(0), requester: b.readUInt8(1), seq: b.readUInt32LE(2), rsn: b.readDoubleLE(6), data: b.subarray(14) };
}

type ToParent = { type: 'ready' } | { type: 'error'; message: string };

function tell(m: ToParent): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(m, () => resolve());
  });
}

async function echo(endpoints: readonly string[], stopped: Promise<void>): Promise<void> {
  const router = new Router({ linger: 0 });
  try {
    for (const ep of endpoints) await router.bind(ep);
    await tell({ type: 'ready' });
    const loop = (async () => {
      for await (const [id, msg] of router) await router.send([id!, msg!]);
    })();
    await stopped;
    router.close();
    await loop.catch(() => undefined); // the closed socket ends the loop with an error: expected
  } finally {
    if (!router.closed) router.close();
  }
}

class MigrationNode {
  private readonly router = new Router({ linger: 0 });
  private readonly peers = new Map<number, Dealer>();
  private readonly sql: BetterSqlite3.Database;
  private readonly write: (rsn: number, dmaster: number, data: Buffer) => void;
  private readonly waiting = new Map<number, Buffer>(); // seq → client routing id
  private dmasterKnown: number; // at the lmaster: the dmaster it recorded
  private holder = false; // this node is dmaster
  private rsn = 1;
  private data = Buffer.alloc(32);
  private readonly key = Buffer.from('floor-migrate');

  constructor(private readonly cfg: Extract<FloorChildConfig, { role: 'migration-node' }>) {
    this.dmasterKnown = cfg.dmaster;
    this.holder = cfg.pnn === cfg.dmaster;
    for (const s of ['', '-wal', '-shm']) rmSync(`${cfg.dbPath}${s}`, { force: true });
    this.sql = new BetterSqlite3(cfg.dbPath);
    this.sql.pragma('busy_timeout = 0');
    this.sql.pragma('journal_mode = WAL');
    this.sql.pragma('synchronous = OFF');
    this.sql.pragma('wal_autocheckpoint = 1000');
    this.sql.exec(schemaSql);
    this.sql.prepare('INSERT INTO records (key, rsn, dmaster, flags, data) VALUES (?, 1, ?, 0, ?)').run(this.key, cfg.dmaster, Buffer.alloc(32));
    const upd = this.sql.prepare('UPDATE records SET rsn = ?, dmaster = ?, data = ? WHERE key = ?');
    const tx = this.sql.transaction((rsn: number, dmaster: number, data: Buffer) => { upd.run(rsn, dmaster, data, this.key); });
    this.write = (rsn, dmaster, data) => tx.immediate(rsn, dmaster, data);
  }

  async start(): Promise<void> {
    const c = this.cfg;
    await this.router.bind(c.peers[c.pnn]!);
    await this.router.bind(c.clientEndpoint);
    c.peers.forEach((ep, p) => {
      if (p === c.pnn) return;
      const d = new Dealer({ linger: 0, routingId: `n${c.pnn}` });
      d.connect(ep);
      this.peers.set(p, d);
    });
  }

  async run(): Promise<void> {
    for await (const [id, raw] of this.router) await this.handle(id!, decodeMsg(raw!));
  }

  private async toPeer(p: number, m: Buffer): Promise<void> {
    await this.peers.get(p)!.send(m);
  }

  private async handle(from: Buffer, m: DecodedMsg): Promise<void> {
    const c = this.cfg;
    switch (m.type) {
      case Msg.FETCH:
        // GRANTED's second byte says whether the record moved (1) or was here already (0).
        if (this.holder) { await this.router.send([from, encodeMsg(Msg.GRANTED, 0, m.seq, this.rsn)]); return; }
        this.waiting.set(m.seq, from);
        await this.toPeer(c.lmaster, encodeMsg(Msg.CALL, c.pnn, m.seq, 0));
        return;
      case Msg.CALL:
        if (c.pnn === c.lmaster && !this.holder) {
          this.write(this.rsn, this.dmasterKnown, Buffer.alloc(32)); // the lmaster notes the call, then redirects it
          await this.toPeer(this.dmasterKnown, encodeMsg(Msg.CALL, m.requester, m.seq, 0));
          return;
        }
        // dmaster: hand over (own copy now names the requester), record to the lmaster
        this.rsn++;
        this.write(this.rsn, m.requester, this.data);
        this.holder = false;
        await this.toPeer(c.lmaster, encodeMsg(Msg.DMASTER_REQ, m.requester, m.seq, this.rsn, this.data));
        return;
      case Msg.DMASTER_REQ:
        this.write(m.rsn, m.requester, m.data);
        this.dmasterKnown = m.requester;
        await this.toPeer(m.requester, encodeMsg(Msg.DMASTER_REPLY, m.requester, m.seq, m.rsn, m.data));
        return;
      case Msg.DMASTER_REPLY: {
        this.rsn = m.rsn + 1;
        this.data = Buffer.from(m.data);
        this.write(this.rsn, c.pnn, this.data);
        this.holder = true;
        const client = this.waiting.get(m.seq);
        this.waiting.delete(m.seq);
        if (client !== undefined) await this.router.send([client, encodeMsg(Msg.GRANTED, 1, m.seq, this.rsn)]);
        return;
      }
      case Msg.STORE:
        this.data = Buffer.from(m.data);
        this.write(this.rsn, c.pnn, this.data);
        await this.router.send([from, encodeMsg(Msg.STORED, c.pnn, m.seq, this.rsn)]);
        return;
      default:
        throw new Error(`migration node ${c.pnn}: unexpected message type ${m.type}`);
    }
  }

  close(): void {
    this.router.close();
    for (const d of this.peers.values()) d.close();
    this.sql.close();
    for (const s of ['', '-wal', '-shm']) rmSync(`${this.cfg.dbPath}${s}`, { force: true });
  }
}

async function migrationNode(cfg: Extract<FloorChildConfig, { role: 'migration-node' }>, stopped: Promise<void>): Promise<void> {
  const node = new MigrationNode(cfg);
  let loop: Promise<void> | undefined;
  try {
    await node.start();
    await tell({ type: 'ready' });
    loop = node.run();
    await Promise.race([stopped, loop]);
  } finally {
    node.close();
    await loop?.catch(() => undefined); // the closed socket ends the loop with an error: expected
  }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as FloorChildConfig;
  // 'stop' from the parent, or the parent gone (IPC channel closed).
  const stopped = new Promise<void>((resolve) => {
    process.on('message', (m) => { if (m === 'stop') resolve(); });
    process.on('disconnect', () => resolve());
  });
  try {
    if (cfg.role === 'echo') await echo(cfg.endpoints, stopped);
    else await migrationNode(cfg, stopped);
  } catch (err) {
    await tell({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
  process.exit(0);
}

// Only when run as a child (fork), not when imported for encodeMsg/decodeMsg.
if (process.send !== undefined && process.argv[2] !== undefined && process.argv[1]?.endsWith('floor-child.js') === true) void main(); // no top-level await: bundled as CommonJS
