// The transport: Hello, request/reply matching, timeouts, aborts, close, pushed messages.
import { afterEach, describe, expect, test } from 'vitest';
import { ErrorCode } from '@ctdbng/protocol';
import { connect, ConnectionError, TimeoutError, type Client } from '../src/index.js';
import { FakeDbd } from './fake-dbd.js';

let fake: FakeDbd | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function setup(): Promise<{ fake: FakeDbd; client: Client }> {
  fake = await FakeDbd.start({ pnn: 2, incarnation: 99 });
  client = await connect({ socket: fake.socket, timeoutMs: 2_000 });
  return { fake, client };
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('connect', () => {
  test('connect says Hello with its pid and keeps pnn and incarnation from the reply', async () => {
    const { fake, client } = await setup();
    expect(client.pnn).toBe(2);
    expect(client.incarnation).toBe(99);
    const hello = fake.received[0]?.hello;
    expect(hello?.pid).toBe(process.pid);
  });

  test('connect finds the socket under base/run/dbd.sock', async () => {
    fake = await FakeDbd.start();
    client = await connect({ base: fake.dir });
    expect(client.pnn).toBe(0);
  });

  test('connect to a missing socket fails with ConnectionError naming the cause', async () => {
    const err = await connect({ socket: '/nonexistent/ctdbng/dbd.sock' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).cause).toBeDefined();
  });

  test('connect to a dbd that never answers fails with ConnectionError after timeoutMs', async () => {
    fake = await FakeDbd.start();
    fake.answerHello = false;
    const before = timeouts();
    const err = await connect({ socket: fake.socket, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).cause).toBeInstanceOf(TimeoutError);
    expect(timeouts()).toBeLessThanOrEqual(before);
  });
});

describe('requests', () => {
  test('pipelined requests are matched to replies that come back out of order', async () => {
    const { fake, client } = await setup();
    const held: NonNullable<typeof fake.received[number]>[] = [];
    fake.handler = (env) => {
      held.push(env);
      if (held.length === 2) {
        for (const e of [...held].reverse()) fake.reply(e, { tunableValue: { name: e.getTunable?.name ?? '', value: e.getTunable?.name === 'A' ? 1 : 2 } });
      }
      return undefined;
    };
    const [a, b] = await Promise.all([client.getTunable('A'), client.getTunable('B')]);
    expect([a, b]).toEqual([1, 2]);
    expect(fake.requests().map((e) => e.requestId)).toEqual([2, 3]);
  });

  test('a request that gets no reply fails with TimeoutError and leaves no timer', async () => {
    const { fake, client } = await setup();
    fake.handler = () => undefined;
    const before = timeouts();
    const err = await client.getPnn({ timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe(ErrorCode.ERR_TIMEOUT);
    expect((err as Error).stack).toContain('connection.test.ts');
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  test('an aborted request rejects with the signal reason and leaves no timer', async () => {
    const { fake, client } = await setup();
    fake.handler = () => undefined;
    const before = timeouts();
    const ac = new AbortController();
    const pending = client.getPnn({ signal: ac.signal });
    ac.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  test('a request with an already aborted signal is not sent', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ pong: { pnn: 2 } });
    await expect(client.getPnn({ signal: AbortSignal.abort() })).rejects.toThrow();
    await client.ping();
    expect(fake.requests().map((e) => e.body)).toEqual(['ping']);
  });

  test('close rejects pending requests with ConnectionError and leaves no timer', async () => {
    const { fake, client } = await setup();
    fake.handler = () => undefined;
    const before = timeouts();
    const pending = client.getPnn();
    await expect.poll(() => fake.requests().length).toBe(1);
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionError);
    await expect(client.getPnn()).rejects.toBeInstanceOf(ConnectionError);
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  test('a control with pnn set goes out with target_pnn', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ pnnReply: { pnn: 3 } });
    expect(await client.getPnn({ pnn: 3 })).toBe(3);
    expect(fake.requests('getPnn')[0]?.targetPnn).toBe(3);
    await client.getPnn();
    expect(fake.requests('getPnn')[1]?.targetPnn ?? undefined).toBeUndefined();
  });

  test('a reply of the wrong kind fails with BadMessageError', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ ok: {} });
    await expect(client.getPnn()).rejects.toMatchObject({ name: 'BadMessageError' });
  });

  test('controls decode their replies', async () => {
    const { fake, client } = await setup();
    fake.handler = (env) => {
      switch (env.body) {
        case 'getNodeMap': return { nodeMap: { pnn: 1, nodes: [{ pnn: 0, address: '10.0.0.1', flags: ['OK'] }] } };
        case 'getVnnMap': return { vnnMap: { generation: 5, pnns: [0, 1] } };
        case 'listTunables': return { tunableList: { tunables: [{ name: 'X', value: 1, unit: 's', doc: 'd', defaultValue: 2 }] } };
        case 'getStatistics': return { statistics: { pnn: 1, counters: [{ name: 'client_requests', value: 4 }] } };
        case 'ping': return { pong: { pnn: 1, uptimeMs: 1234 } };
        default: return { ok: {} };
      }
    };
    expect(await client.getNodeMap()).toEqual({ pnn: 1, nodes: [{ pnn: 0, address: '10.0.0.1', flags: ['OK'] }] });
    expect(await client.getVnnMap()).toEqual({ generation: 5, pnns: [0, 1] });
    expect(await client.listTunables()).toEqual([{ name: 'X', value: 1, unit: 's', doc: 'd', defaultValue: 2 }]);
    expect(await client.statistics()).toEqual({ pnn: 1, counters: { client_requests: 4 } });
    expect(await client.ping()).toMatchObject({ pnn: 1, uptimeMs: 1234 });
  });
});

describe('messages', () => {
  test('a pushed ClientMessage reaches the handler registered for its srvid', async () => {
    const { fake, client } = await setup();
    const got: { srvid: number; data: string; srcPnn: number }[] = [];
    await client.registerSrvid(77, (m) => got.push({ srvid: m.srvid, data: m.data.toString(), srcPnn: m.srcPnn }));
    expect(fake.requests('registerSrvid')[0]?.registerSrvid?.srvid).toBe(77);
    fake.send({ requestId: 0, clientMessage: { srvid: 78, data: Buffer.from('not mine'), srcPnn: 1 } });
    fake.send({ requestId: 0, clientMessage: { srvid: 77, data: Buffer.from('hi'), srcPnn: 1 } });
    await expect.poll(() => got).toEqual([{ srvid: 77, data: 'hi', srcPnn: 1 }]);
  });

  test("sendMessage to 'all' uses dest_pnn 0xFFFFFFFF", async () => {
    const { fake, client } = await setup();
    await client.sendMessage('all', 5, 'x');
    await client.sendMessage(1, 5, new Uint8Array([1, 2]));
    const sent = fake.requests('sendMessage').map((e) => e.sendMessage);
    expect(sent[0]).toMatchObject({ destPnn: 0xffffffff, srvid: 5 });
    expect(Buffer.from(sent[1]?.data ?? [])).toEqual(Buffer.from([1, 2]));
  });
});

// Runs the built library (dist/) in a child process: build first (`npx tsc -b packages/client`;
// npm test's pretest does). Without close() this child never exits (checked by hand).
describe('exit', () => {
  test('a process that closes its client exits on its own: no timer or socket is left', async () => {
    const { execFile } = await import('node:child_process');
    fake = await FakeDbd.start();
    fake.handler = (env) => (env.body === 'fetchLock'
      ? { fetchLockReply: { token: 1, leaseMs: 30_000 } }
      : env.body === 'attach' ? { attachReply: { db: { dbId: 1, name: 'x.db' } } } : { ok: {} });
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      const { connect } = await import(${JSON.stringify(dist)});
      const c = await connect({ socket: ${JSON.stringify(fake.socket)}, sharedAccess: true });
      const db = await c.attach('x.db');
      await db.fetchLock('held while closing');
      await c.registerSrvid(1, () => {});
      await c.close();`;
    const code = await new Promise<number | null>((resolve) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err) => {
        if (err !== null) console.error(err);
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(0);
  });
});
