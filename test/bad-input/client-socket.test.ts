// Every bad input on the client socket gets a typed Error reply (or, past ZMQ_MAXMSGSIZE, the
// connection dropped), and afterwards the daemon keeps serving and stored data is untouched
// (DESIGN §7).
import { beforeAll, expect, test } from 'vitest';
import { connect, type RecordHeader } from '@ctdbng/client';
import { encodeEnvelope, ErrorCode, errorCodeName, frameBytesMax, keyBytesMax, recordBytesMax, type Envelope } from '@ctdbng/protocol';
import { fnv1a32String } from '@ctdbng/common';
import { useCluster } from '../helpers/cluster.js';
import { rawClient } from '../helpers/raw.js';

const fx = useCluster('bad-client', { portBase: 11_800 });
const dbName = 'bad.tdb';
const dbId = fnv1a32String(dbName);
const guardKey = 'guard';
const guardData = 'intact';
const unknownDbId = 0xdeadbeef;
let guardHeader: RecordHeader;

beforeAll(async () => {
  const c = await connect({ base: fx.nodeBase(0), timeoutMs: 20_000 });
  try {
    const db = await c.attach(dbName);
    expect(db.id).toBe(dbId);
    await db.withLock(guardKey, (rec) => rec.store(guardData));
    guardHeader = (await db.fetch(guardKey)).header!;
  } finally {
    await c.close();
  }
});

/** The error code name of a reply, and the request id it echoes. */
function errorOf(env: Envelope): { code: string; requestId: number } {
  expect(env.body).toBe('error');
  return { code: errorCodeName(env.error!.code ?? 0), requestId: Number(env.requestId) };
}

/** The daemon still serves (a ping on a fresh connection) and the guard record is unchanged. */
async function expectServingAndIntact(): Promise<void> {
  const c = await fx.client(0);
  expect((await c.ping()).pnn).toBe(0);
  const got = await (await c.db(dbName)).fetch(guardKey);
  expect(got.found).toBe(true);
  expect(got.data.toString()).toBe(guardData);
  expect(got.header).toEqual(guardHeader);
}

/** p, or 'timed out' after ms (so that a missing event fails the test instead of hanging it). */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timed out'>((resolve) => { timer = setTimeout(() => resolve('timed out'), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function badFrames(): Promise<number> {
  const c = await fx.client(0);
  return (await c.statistics()).counters['bad_frames']!;
}

test('garbage frames on the client socket get ERR_BAD_MESSAGE and count as bad frames', async () => {
  const before = await badFrames();
  const raw = rawClient(fx, 0);
  const garbage = [
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),   // a varint that never ends
    Buffer.from([0x0f, 0x01, 0x02]),                                                      // wire type 7 does not exist
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  ];
  for (const g of garbage) expect(errorOf(await raw.request(g))).toEqual({ code: 'ERR_BAD_MESSAGE', requestId: 0 });
  expect(await badFrames()).toBe(before + garbage.length);
  // The same connection is still served.
  expect((await raw.request(encodeEnvelope({ requestId: 1, ping: {} }))).body).toBe('pong');
  await expectServingAndIntact();
});

test('a truncated envelope (a valid encoding cut short) gets ERR_BAD_MESSAGE', async () => {
  const raw = rawClient(fx, 0);
  const whole = encodeEnvelope({ requestId: 5, store: { dbId, key: Buffer.from(guardKey), token: 1, data: Buffer.alloc(100, 0x61), unlock: true } });
  for (const cut of [whole.length - 1, Math.floor(whole.length / 2)]) {
    expect(errorOf(await raw.request(whole.subarray(0, cut))).code).toBe('ERR_BAD_MESSAGE');
  }
  await expectServingAndIntact();
});

test('an oversize frame (over MaxMessageSize) makes ZeroMQ drop the connection; others are still served', async () => {
  const raw = rawClient(fx, 0);
  const before = await badFrames();
  // The event of the drop: dbd's ROUTER closes the connection, which our DEALER sees.
  const dropped = new Promise<string>((resolve) => raw.dealer.events.on('disconnect', () => resolve('disconnected')));
  await raw.send(Buffer.alloc(frameBytesMax + 1, 0x20));
  expect(await bounded(dropped, 30_000)).toBe('disconnected');
  // dbd never saw the frame (ZeroMQ refused it), so it did not count it either.
  expect(await badFrames()).toBe(before);
  await expectServingAndIntact();
});

test('an envelope with a body field not in the oneof gets ERR_UNKNOWN_TYPE with its request id', async () => {
  const raw = rawClient(fx, 0);
  // Field 99, length-delimited ("abc"): tag (99 << 3) | 2 = 794 = varint 0x9a 0x06.
  const unknownField = Buffer.concat([encodeEnvelope({ requestId: 7 }), Buffer.from([0x9a, 0x06, 3, 0x61, 0x62, 0x63])]);
  expect(errorOf(await raw.request(unknownField))).toEqual({ code: 'ERR_UNKNOWN_TYPE', requestId: 7 });
  await expectServingAndIntact();
});

test('a node-only body (CallRequest, DmasterReply) on the client socket gets ERR_UNKNOWN_TYPE', async () => {
  const raw = rawClient(fx, 0);
  const call = encodeEnvelope({ requestId: 8, callRequest: { dbId, key: Buffer.from(guardKey), origin: 1, hopcount: 0, callId: 1 } });
  expect(errorOf(await raw.request(call))).toEqual({ code: 'ERR_UNKNOWN_TYPE', requestId: 8 });
  const takeover = encodeEnvelope({
    requestId: 9,
    dmasterReply: { dbId, key: Buffer.from(guardKey), header: { rsn: 1000, dmaster: 0, flags: 0 }, data: Buffer.from('stolen'), callId: 1 },
  });
  expect(errorOf(await raw.request(takeover))).toEqual({ code: 'ERR_UNKNOWN_TYPE', requestId: 9 });
  await expectServingAndIntact();
});

test('a wrong protocol version gets ERR_VERSION with the request id echoed', async () => {
  const raw = rawClient(fx, 0);
  expect(errorOf(await raw.request(encodeEnvelope({ version: 2, requestId: 10, ping: {} })))).toEqual({ code: 'ERR_VERSION', requestId: 10 });
  const store = encodeEnvelope({ version: 2, requestId: 11, store: { dbId, key: Buffer.from(guardKey), token: 1, data: Buffer.from('v2'), unlock: true } });
  expect(errorOf(await raw.request(store))).toEqual({ code: 'ERR_VERSION', requestId: 11 });
  await expectServingAndIntact();
});

test('unknown db ids get ERR_UNKNOWN_DB for fetch_lock, fetch, store and traverse', async () => {
  const raw = rawClient(fx, 0);
  const key = Buffer.from(guardKey);
  const requests = [
    encodeEnvelope({ requestId: 20, fetchLock: { dbId: unknownDbId, key } }),
    encodeEnvelope({ requestId: 21, fetch: { dbId: unknownDbId, key } }),
    encodeEnvelope({ requestId: 22, store: { dbId: unknownDbId, key, token: 1, data: Buffer.from('x'), unlock: true } }),
    encodeEnvelope({ requestId: 23, traverseStart: { dbId: unknownDbId, local: false } }),
    encodeEnvelope({ requestId: 24, traverseStart: { dbId: unknownDbId, local: true } }),
  ];
  for (const [i, r] of requests.entries()) expect(errorOf(await raw.request(r))).toEqual({ code: 'ERR_UNKNOWN_DB', requestId: 20 + i });
  await expectServingAndIntact();
});

test('a key over 64 KiB gets ERR_KEY_TOO_LARGE; a key of exactly 64 KiB works', async () => {
  const raw = rawClient(fx, 0);
  const tooLong = Buffer.alloc(keyBytesMax + 1, 0x6b);
  expect(errorOf(await raw.request(encodeEnvelope({ requestId: 30, fetchLock: { dbId, key: tooLong } })))).toEqual({ code: 'ERR_KEY_TOO_LARGE', requestId: 30 });
  expect(errorOf(await raw.request(encodeEnvelope({ requestId: 31, fetch: { dbId, key: tooLong } })))).toEqual({ code: 'ERR_KEY_TOO_LARGE', requestId: 31 });
  expect(errorOf(await raw.request(encodeEnvelope({ requestId: 32, store: { dbId, key: tooLong, token: 1, data: Buffer.from('x') } })))).toEqual({ code: 'ERR_KEY_TOO_LARGE', requestId: 32 });

  const c = await fx.client(0);
  const db = await c.db(dbName);
  const maxKey = Buffer.alloc(keyBytesMax, 0x6b);
  await db.withLock(maxKey, (rec) => rec.store('max-key'));
  const got = await db.fetch(maxKey);
  expect(got.data.toString()).toBe('max-key');
  await expectServingAndIntact();
});

test('a record over 16 MiB gets ERR_RECORD_TOO_LARGE; a record of exactly 16 MiB works', async () => {
  const raw = rawClient(fx, 0);
  // Aimed at the guard record itself: nothing of it may be written.
  const tooBig = Buffer.alloc(recordBytesMax + 1, 0x62);
  const store = encodeEnvelope({ requestId: 40, store: { dbId, key: Buffer.from(guardKey), token: 1, data: tooBig, unlock: true } });
  expect(errorOf(await raw.request(store))).toEqual({ code: 'ERR_RECORD_TOO_LARGE', requestId: 40 });
  await expectServingAndIntact();

  const c = await fx.client(0, { timeoutMs: 60_000 });
  const db = await c.db(dbName);
  const max = Buffer.alloc(recordBytesMax, 0x63);
  max.write('head', 0);
  max.write('tail', recordBytesMax - 4);
  await db.withLock('max-record', (rec) => rec.store(max));
  const got = await db.fetch('max-record');
  expect(got.data.length).toBe(recordBytesMax);
  expect(got.data.equals(max)).toBe(true);
  await expectServingAndIntact();
});

test('error codes used here are the proto ones', () => {
  // Guards the string comparisons above against a renamed code.
  for (const name of ['ERR_BAD_MESSAGE', 'ERR_UNKNOWN_TYPE', 'ERR_VERSION', 'ERR_UNKNOWN_DB', 'ERR_KEY_TOO_LARGE', 'ERR_RECORD_TOO_LARGE'] as const) {
    expect(errorCodeName(ErrorCode[name])).toBe(name);
  }
});
