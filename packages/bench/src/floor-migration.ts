// Floor (d): a bare prototype of a record migration's hops, built and run here (floor-child.ts has
// the node side). Three forked node processes on 127.0.0.1..3 (zeromq tcp between them, one
// ROUTER each, a DEALER per peer); the key's lmaster is node 1. As in `migrate`, a client on node
// 0 and one on node 2 alternate, so every operation moves the record:
//   client ─FETCH→ r ─→ lmaster ─→ dmaster ─→ lmaster ─→ r ─GRANTED→ client ─STORE→ r ─STORED→ client
// that is the 4 hops with a small SQLite write at each receiver, plus the client's 2 round trips
// (over ipc, as a ctdb-ng client talks to its dbd). Gives the latency of the whole operation.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { decodeMsg, encodeMsg, Msg } from './floor-child.js';
import { forkFloorChild, timeAsync, type FloorChild } from './floor-zmq.js';
import type { LatencySummary } from './stats.js';

export interface MigrationFloorOptions {
  ops: number;
  warmup: number;
  /** Each node binds 127.0.0.(pnn+1):port. */
  port: number;
  /** Directory for the nodes' db files and ipc sockets. */
  dir: string;
}

export interface MigrationFloor {
  operation: LatencySummary;
  /** Operations whose record moved (the GRANTED came after the hops): every one, when it works. */
  migrated: number;
}

const receiveTimeoutMs = 10_000;
const nodes = 3;
const lmaster = 1;

export async function migrationFloor(o: MigrationFloorOptions): Promise<MigrationFloor> {
  mkdirSync(o.dir, { recursive: true });
  const peers = Array.from({ length: nodes }, (_, p) => `tcp://127.0.0.${p + 1}:${o.port}`);
  const clientEp = (p: number): string => `ipc://${join(o.dir, `floor-node${p}.sock`)}`;
  const children: FloorChild[] = [];
  const clients: Dealer[] = [];
  try {
    for (let p = 0; p < nodes; p++) {
      children.push(await forkFloorChild({
        role: 'migration-node', pnn: p, lmaster, dmaster: 2, peers, clientEndpoint: clientEp(p), dbPath: join(o.dir, `floor-node${p}.db`),
      }));
    }
    // Requesters alternate 0, 2, 0, …; the record starts on node 2, so the first operation moves it.
    for (const p of [0, 2]) {
      const d = new Dealer({ linger: 0, receiveTimeout: receiveTimeoutMs });
      d.connect(clientEp(p));
      clients.push(d);
    }
    const data = Buffer.alloc(32, 0x64);
    let migrated = 0;
    let measuring = false;
    const op = async (i: number): Promise<void> => {
      const c = clients[i % 2]!;
      await c.send(encodeMsg(Msg.FETCH, 0, i, 0));
      const granted = decodeMsg((await c.receive())[0]!);
      if (granted.type !== Msg.GRANTED || granted.seq !== i >>> 0) throw new Error(`migration floor: expected GRANTED ${i}, got type ${granted.type} seq ${granted.seq}`);
      if (measuring && granted.requester === 1) migrated++; // 1: the record moved to this node
      data.writeDoubleLE(i, 0);
      await c.send(encodeMsg(Msg.STORE, 0, i, 0, data));
      const stored = decodeMsg((await c.receive())[0]!);
      if (stored.type !== Msg.STORED || stored.seq !== i >>> 0) throw new Error(`migration floor: expected STORED ${i}, got type ${stored.type}`);
    };
    // The warm-up keeps the alternation (an even count, so the measured run starts on node 0).
    const warmup = o.warmup + (o.warmup % 2);
    for (let i = 0; i < warmup; i++) await op(i);
    measuring = true;
    const operation = await timeAsync(o.ops, 0, (i) => op(warmup + i));
    return { operation, migrated };
  } finally {
    for (const c of clients) c.close();
    await Promise.allSettled(children.map((c) => c.stop()));
    for (let p = 0; p < nodes; p++) rmSync(join(o.dir, `floor-node${p}.sock`), { force: true });
  }
}
