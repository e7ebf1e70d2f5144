// Floor (b): bare zeromq.js round trips. A forked child runs a ROUTER that echoes every message
// (floor-child.ts); this process sends a 48-byte frame from a DEALER and waits for it back, over
// loopback tcp and over ipc (the client's transport to dbd is ipc, node links are tcp). Measured:
// one round trip per operation, and two round trips per operation (ctdb-ng's fetch_lock, then
// store with unlock, is two requests on the ZeroMQ path).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dealer } from 'zeromq';
import type { FloorChildConfig } from './floor-child.js';
import { summarize, type LatencySummary } from './stats.js';

/** A forked floor child, ready (bound); stop() ends it and waits for its exit. */
export interface FloorChild {
  readonly pid: number;
  stop(): Promise<void>;
}

const childReadyMsMax = 15_000;
const childExitMsMax = 5_000;

/** Forks floor-child.js with `cfg` and resolves once it says it is ready. */
export async function forkFloorChild(cfg: FloorChildConfig): Promise<FloorChild> {
  const path = fileURLToPath(new URL('./floor-child.js', import.meta.url));
  const ch = fork(path, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = (): Promise<void> => stopChild(ch);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`floor child (${cfg.role}) not ready in ${childReadyMsMax} ms`)), childReadyMsMax);
      const onMsg = (m: { type: string; message?: string }): void => {
        if (m.type === 'ready') done();
        else if (m.type === 'error') done(new Error(`floor child (${cfg.role}): ${m.message ?? '?'}`));
      };
      const onExit = (code: number | null): void => done(new Error(`floor child (${cfg.role}) exited (${code}) before it was ready`));
      const done = (err?: Error): void => {
        clearTimeout(timer);
        ch.off('message', onMsg);
        ch.off('exit', onExit);
        if (err === undefined) resolve();
        else reject(err);
      };
      ch.on('message', onMsg);
      ch.once('exit', onExit);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: ch.pid!, stop };
}

function stopChild(ch: ChildProcess): Promise<void> {
  if (ch.exitCode !== null || ch.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { ch.kill('SIGKILL'); }, childExitMsMax);
    ch.once('exit', () => { clearTimeout(timer); resolve(); });
    if (ch.connected) ch.send('stop');
    else ch.kill('SIGTERM');
  });
}

export interface ZmqFloorOptions {
  ops: number;
  warmup: number;
  /** tcp port on 127.0.0.1 for the echo. */
  port: number;
  /** Directory of the ipc socket. */
  dir: string;
}

export interface ZmqTransportFloor { oneRoundTrip: LatencySummary; twoRoundTrips: LatencySummary }
export interface ZmqFloor { tcp: ZmqTransportFloor; ipc: ZmqTransportFloor }

/** A round-trip timeout: a lost echo fails the floor instead of hanging it. */
const receiveTimeoutMs = 10_000;
const frameBytes = 48;

export async function zmqFloor(o: ZmqFloorOptions): Promise<ZmqFloor> {
  mkdirSync(o.dir, { recursive: true });
  const tcp = `tcp://127.0.0.1:${o.port}`;
  const ipc = `ipc://${join(o.dir, 'floor-echo.sock')}`;
  const child = await forkFloorChild({ role: 'echo', endpoints: [tcp, ipc] });
  try {
    return { tcp: await measureEndpoint(tcp, o), ipc: await measureEndpoint(ipc, o) };
  } finally {
    await child.stop();
    rmSync(join(o.dir, 'floor-echo.sock'), { force: true });
  }
}

async function measureEndpoint(endpoint: string, o: ZmqFloorOptions): Promise<ZmqTransportFloor> {
  const sock = new Dealer({ linger: 0, receiveTimeout: receiveTimeoutMs });
  sock.connect(endpoint);
  const frame = Buffer.alloc(frameBytes, 0x63);
  const roundTrip = async (): Promise<void> => {
    await sock.send(frame);
    const [reply] = await sock.receive();
    if (reply?.length !== frameBytes) throw new Error(`echo of ${endpoint} answered ${reply?.length ?? 0} bytes`);
  };
  try {
    const oneRoundTrip = await timeAsync(o.ops, o.warmup, roundTrip);
    const twoRoundTrips = await timeAsync(o.ops, o.warmup, async () => { await roundTrip(); await roundTrip(); });
    return { oneRoundTrip, twoRoundTrips };
  } finally {
    sock.close();
  }
}

/** `warmup` unmeasured calls, then `ops` calls each timed alone. */
export async function timeAsync(ops: number, warmup: number, op: (i: number) => Promise<void>): Promise<LatencySummary> {
  for (let i = 0; i < warmup; i++) await op(i);
  const samples = new Float64Array(ops);
  for (let i = 0; i < ops; i++) {
    const t0 = process.hrtime.bigint();
    await op(warmup + i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return summarize(samples);
}
