// Bad input on the node socket gets no reply (the sender is unknown until a frame decodes): it is
// dropped with a log line and counted in bad_frames; a node message from a node with another
// nodes file is refused; the node keeps serving and stored data is untouched (DESIGN §1, §7).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { connect, type RecordHeader } from '@ctdbng/client';
import { parseNodesFile } from '@ctdbng/common';
import { encodeEnvelope } from '@ctdbng/protocol';
import { useCluster } from '../helpers/cluster.js';
import { rawNodePeer } from '../helpers/raw.js';

const fx = useCluster('bad-node', { portBase: 11_900 });
const dbName = 'badnode.tdb';
const guardKey = 'guard';
const guardData = 'intact';
let dbId = 0;
let guardHeader: RecordHeader;

beforeAll(async () => {
  const c = await connect({ base: fx.nodeBase(0), timeoutMs: 20_000 });
  try {
    const db = await c.attach(dbName);
    dbId = db.id;
    await db.withLock(guardKey, (rec) => rec.store(guardData));
    guardHeader = (await db.fetch(guardKey)).header!;
    expect(guardHeader.dmaster).toBe(0);
  } finally {
    await c.close();
  }
});

async function counters(pnn: number): Promise<Record<string, number>> {
  const c = await fx.client(0);
  return (await c.statistics({ pnn })).counters;
}

function logOf(pnn: number): string {
  return readFileSync(join(fx.nodeBase(pnn), 'log', 'dbd.log'), 'utf8');
}

async function expectServingAndIntact(): Promise<void> {
  const c = await fx.client(0);
  expect((await c.ping()).pnn).toBe(0);
  const got = await (await c.db(dbName)).fetch(guardKey);
  expect(got.data.toString()).toBe(guardData);
  expect(got.header).toEqual(guardHeader);
}

test('garbage on the node socket is dropped with a log line, counted in bad_frames, and the node keeps serving', async () => {
  const before = (await counters(0))['bad_frames']!;
  const peer = rawNodePeer(fx, 0, 'garbage-peer');
  await peer.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  await peer.send(Buffer.from('not a protobuf envelope \u0000\u0001'));
  await expect.poll(async () => (await counters(0))['bad_frames']!, { timeout: 10_000 }).toBe(before + 2);
  await expect.poll(() => logOf(0), { timeout: 10_000 }).toContain('bad frame on the node socket dropped');
  await expectServingAndIntact();
  // The links between the real nodes are unharmed: a control forwarded to node 1 still works.
  const c = await fx.client(0);
  expect((await c.ping({ pnn: 1 })).pnn).toBe(1);
});

test('a node message with a wrong nodes-file hash is refused and changes nothing', async () => {
  const nodes = parseNodesFile(readFileSync(join(fx.nodeBase(0), 'nodes'), 'utf8'));
  const before = await counters(0);
  const peer = rawNodePeer(fx, 0, 'wrong-nodes-file');
  // Posing as node 1 of this generation, with a DmasterReply that would make the guard record
  // ours with new data, if it were accepted.
  await peer.send(encodeEnvelope({
    node: { srcPnn: 1, generation: fx.cluster.generation, incarnation: 1, seq: 1, nodesHash: (nodes.hash ^ 0x5a5a) >>> 0 },
    dmasterReply: { dbId, key: Buffer.from(guardKey), header: { rsn: guardHeader.rsn + 100, dmaster: 1, flags: 0 }, data: Buffer.from('stolen'), callId: 1 },
  }));
  await expect.poll(async () => (await counters(0))['bad_frames']!, { timeout: 10_000 }).toBe(before['bad_frames']! + 1);
  await expect.poll(() => logOf(0), { timeout: 10_000 }).toContain('node message from a node with another nodes file refused');
  // The refusal went to node 1 (whose name the message carried), which logs it.
  await expect.poll(() => logOf(1), { timeout: 10_000 }).toContain('node refused a message');
  const after = await counters(0);
  expect(after['migrations_in']).toBe(before['migrations_in']);
  await expectServingAndIntact();
});
