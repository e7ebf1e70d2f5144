// The ZMTP transport (zmtp-transport.ts) against libzmq's ROUTER, as dbd's client socket is: the
// same requests and replies as the zeromq transport, large frames, pushes, a dbd that starts late,
// a silent or non-ZMTP socket, and nothing left running after close.
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, onTestFinished, test } from 'vitest';
import { Router } from 'zeromq';
import { decodeEnvelope, encodeEnvelope } from '@ctdbng/protocol';
import { connect, ConnectionError, TimeoutError, type Client } from '../src/index.js';
import { inboxMessagesMax, openZmtpTransport, reconnectIntervalMs } from '../src/zmtp-transport.js';
import { FakeDbd } from './fake-dbd.js';

let fake: FakeDbd | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctdbng-zmtp-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('zmtp transport against libzmq', () => {
  test('connect says Hello and controls get their replies, as over zeromq', async () => {
    fake = await FakeDbd.start({ pnn: 2, incarnation: 99 });
    fake.handler = (env) => (env.body === 'getPnn' ? { pnnReply: { pnn: 2 } } : { ok: {} });
    client = await connect({ socket: fake.socket, timeoutMs: 2_000, transport: 'zmtp' });
    expect([client.pnn, client.incarnation]).toEqual([2, 99]);
    expect(fake.received[0]?.hello?.pid).toBe(process.pid);
    expect(await client.getPnn()).toBe(2);
  });

  test('pipelined requests are matched to replies that come back out of order', async () => {
    fake = await FakeDbd.start();
    const held: NonNullable<typeof fake.received[number]>[] = [];
    fake.handler = (env, f) => {
      held.push(env);
      if (held.length === 2) {
        for (const e of [...held].reverse()) f.reply(e, { tunableValue: { name: e.getTunable?.name ?? '', value: e.getTunable?.name === 'A' ? 1 : 2 } });
      }
      return undefined;
    };
    client = await connect({ socket: fake.socket, timeoutMs: 2_000, transport: 'zmtp' });
    expect(await Promise.all([client.getTunable('A'), client.getTunable('B')])).toEqual([1, 2]);
  });

  test('frames of more than 255 bytes go both ways (8-octet sizes)', async () => {
    fake = await FakeDbd.start();
    client = await connect({ socket: fake.socket, timeoutMs: 5_000, transport: 'zmtp' });
    const got: number[] = [];
    await client.registerSrvid(7, (m) => got.push(m.data.length));
    await client.sendMessage(1, 7, Buffer.alloc(300_000, 1));
    expect(fake.requests('sendMessage')[0]?.sendMessage?.data?.length).toBe(300_000);
    fake.send({ requestId: 0, clientMessage: { srvid: 7, data: Buffer.alloc(2 << 20, 2), srcPnn: 1 } });
    fake.send({ requestId: 0, clientMessage: { srvid: 7, data: Buffer.alloc(200, 3), srcPnn: 1 } });
    await expect.poll(() => got, { timeout: 5_000 }).toEqual([2 << 20, 200]);
  });

  test('a request sent before dbd binds its socket is delivered once it does (retried every 100 ms)', async () => {
    const path = join(tempDir(), 'dbd.sock');
    const transport = openZmtpTransport(path);
    onTestFinished(() => transport.close());
    const sent = transport.send(encodeEnvelope({ requestId: 1, ping: {} }));
    await new Promise((r) => setTimeout(r, 3 * reconnectIntervalMs));
    const router = new Router({ linger: 0 });
    onTestFinished(() => router.close());
    await router.bind(`ipc://${path}`);
    const [peer, frame] = await router.receive();
    expect(decodeEnvelope(frame!).ok && decodeEnvelope(frame!)).toMatchObject({ envelope: { requestId: 1, body: 'ping' } });
    await sent;
    await router.send([peer!, encodeEnvelope({ requestId: 1, pong: { pnn: 4 } })]);
    const reply = await transport[Symbol.asyncIterator]().next();
    expect(reply.done).toBe(false);
    expect(decodeEnvelope(reply.value![0]!)).toMatchObject({ ok: true, envelope: { requestId: 1, pong: { pnn: 4 } } });
  });

  test('messages past the inbox bound wait in the socket and all arrive, in order, once taken', async () => {
    const path = join(tempDir(), 'dbd.sock');
    // mandatory, as dbd's client socket: a send waits for room instead of dropping the message.
    const router = new Router({ linger: 0, mandatory: true });
    onTestFinished(() => router.close());
    await router.bind(`ipc://${path}`);
    const transport = openZmtpTransport(path);
    onTestFinished(() => transport.close());
    await transport.send(new Uint8Array([0]));
    const [peer] = await router.receive();
    const count = inboxMessagesMax + 500;
    // Sent while nobody takes: the transport stops reading at the bound, libzmq then holds the rest.
    const sending = (async () => {
      for (let i = 0; i < count; i++) await router.send([peer!, Buffer.from(String(i))]);
    })();
    await new Promise((r) => setTimeout(r, 200));
    const got: string[] = [];
    for await (const [frame] of transport) {
      got.push(Buffer.from(frame!).toString());
      if (got.length === count) break;
    }
    await sending;
    expect(got).toEqual(Array.from({ length: count }, (_, i) => String(i)));
  });

  test('a socket path nobody listens on fails connect with ConnectionError after timeoutMs', async () => {
    const path = join(tempDir(), 'silent.sock');
    writeFileSync(path, '');
    const before = timeouts();
    const err = await connect({ socket: path, timeoutMs: 200, transport: 'zmtp' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).cause).toBeInstanceOf(TimeoutError);
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  test('a peer that does not speak ZMTP 3 is dropped and retried; the request times out', async () => {
    const path = join(tempDir(), 'http.sock');
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.on('error', () => undefined);
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n'.padEnd(80, ' '));
    });
    onTestFinished(() => void server.close());
    await new Promise<void>((r) => server.listen(path, r));
    const err = await connect({ socket: path, timeoutMs: 4 * reconnectIntervalMs, transport: 'zmtp' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(connections).toBeGreaterThan(1);
  });

  test('close ends the iteration, rejects a send still waiting for the peer and leaves no timer', async () => {
    const before = timeouts();
    const transport = openZmtpTransport(join(tempDir(), 'none.sock'));
    await new Promise((r) => setTimeout(r, reconnectIntervalMs / 2)); // refused once: a retry is due
    const sent = transport.send(new Uint8Array([1]));
    const next = transport[Symbol.asyncIterator]().next();
    transport.close();
    await expect(sent).rejects.toThrow(/closed/);
    expect(await next).toEqual({ done: true, value: undefined });
    expect(timeouts()).toBeLessThanOrEqual(before);
  });
});
