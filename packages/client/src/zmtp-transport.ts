// A DEALER that speaks ZMTP 3.0 (rfc.zeromq.org/spec/23) itself, with the NULL mechanism, over
// dbd's ipc client socket (a Unix socket): what `ctdbng` uses, so that a command starts without
// loading libzmq (~8 ms of its start; packages/cli/README.md, "Start-up time"). As libzmq's
// DEALER: sends wait until the handshake is done, a refused or lost connection is retried every
// reconnectIntervalMs, and a message that was in flight when the connection dropped is lost (the
// request then times out). No CurveZMQ: dbd's ipc socket has none (DESIGN §7).
import { connect, type Socket } from 'node:net';
import { frameBytesMax } from '@ctdbng/protocol';
import type { Transport } from './transport.js';

/** libzmq's ZMQ_RECONNECT_IVL default. */
export const reconnectIntervalMs = 100;
/** Messages received and not yet taken at most; past it the socket stops reading (a receive HWM). */
export const inboxMessagesMax = 1_000;
const greetingBytes = 64;
const flagMore = 0x01;
const flagLong = 0x02;
const flagCommand = 0x04;

/** Signature (0xFF, padding, 0x7F), version 3.0, mechanism "NULL", as-server 0, filler. */
function greeting(): Buffer {
  const g = Buffer.alloc(greetingBytes);
  g[0] = 0xff;
  g[8] = 0x01; // padding: as libzmq, a ZMTP 1.0 identity length of 0, plus 1
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.write('NULL', 12, 'latin1');
  return g;
}

/** One frame: flags, a 1- or 8-octet size, the body. */
function frameOf(flags: number, body: Uint8Array): Buffer {
  const long = body.length > 255;
  const head = Buffer.alloc(long ? 9 : 2);
  head[0] = flags | (long ? flagLong : 0);
  if (long) head.writeBigUInt64BE(BigInt(body.length), 1);
  else head[1] = body.length;
  return Buffer.concat([head, body]);
}

/** The NULL mechanism's READY command with our Socket-Type and an empty Identity. */
function readyCommand(): Buffer {
  const property = (name: string, value: string): Buffer => {
    const v = Buffer.from(value, 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(v.length);
    return Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1'), len, v]);
  };
  const body = Buffer.concat([Buffer.from('\x05READY', 'latin1'), property('Socket-Type', 'DEALER'), property('Identity', '')]);
  return frameOf(flagCommand, body);
}

class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

type Phase = 'greeting' | 'handshake' | 'ready';

class ZmtpDealer implements Transport {
  private socket: Socket | undefined;
  private phase: Phase = 'greeting';
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** Bytes received and not yet parsed, in arrival order. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Frames of a multipart message received so far, and their bytes (at most messageBytesMax). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Messages received and not yet taken, and a reader waiting for one. */
  private readonly inbox: Uint8Array[][] = [];
  /** The socket stopped reading because the inbox is full. */
  private paused = false;
  private waiting: ((r: IteratorResult<Uint8Array[]>) => void) | undefined;
  /** Sends waiting for the handshake: the Connection sends one at a time, so at most one. */
  private readonly unsent: { frame: Uint8Array; resolve(): void; reject(err: Error): void }[] = [];

  constructor(private readonly path: string, private readonly messageBytesMax: number) {
    this.open();
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error('zmtp: socket closed'));
    return new Promise((resolve, reject) => {
      this.unsent.push({ frame, resolve, reject });
      this.flush();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    this.socket?.destroy();
    for (const s of this.unsent.splice(0)) s.reject(new Error('zmtp: socket closed'));
    this.inbox.length = 0;
    this.waiting?.({ done: true, value: undefined });
    this.waiting = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array[]> {
    for (;;) {
      const next = this.inbox.shift();
      if (next !== undefined) {
        if (this.paused && this.inbox.length < inboxMessagesMax) {
          this.paused = false;
          this.socket?.resume();
        }
        yield next;
        continue;
      }
      if (this.closed) return;
      const r = await new Promise<IteratorResult<Uint8Array[]>>((resolve) => (this.waiting = resolve));
      if (r.done === true) return;
      yield r.value;
    }
  }

  private open(): void {
    this.phase = 'greeting';
    this.chunks = [];
    this.chunkBytes = 0;
    this.partial = [];
    this.partialBytes = 0;
    this.paused = false;
    const socket = connect(this.path);
    this.socket = socket;
    socket.on('connect', () => socket.write(Buffer.concat([greeting(), readyCommand()])));
    socket.on('data', (chunk: Buffer) => this.received(socket, chunk));
    // 'close' follows every 'error'; the retry is scheduled there.
    socket.on('error', () => undefined);
    socket.on('close', () => this.lost(socket));
  }

  private lost(socket: Socket): void {
    if (this.closed || socket !== this.socket) return;
    this.socket = undefined;
    this.retry = setTimeout(() => this.open(), reconnectIntervalMs);
  }

  private flush(): void {
    if (this.phase !== 'ready' || this.socket === undefined) return;
    // Resolved once handed to the kernel: the Connection's next send waits, as with libzmq's HWM.
    for (const s of this.unsent.splice(0)) this.socket.write(frameOf(0, s.frame), () => s.resolve());
  }

  private received(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return; // a dropped connection's last bytes
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    try {
      this.parse();
    } catch (err) {
      // A peer that is not a ZMTP 3 ROUTER: drop the connection and retry, as libzmq does.
      if (!(err instanceof ProtocolViolation)) throw err;
      socket.destroy();
    }
  }

  /** The first n bytes received, in one buffer (joining chunks only when needed). */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.chunkBytes)];
    return this.chunks[0]!;
  }

  private consume(n: number): void {
    const first = this.peek(n);
    this.chunkBytes -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
  }

  private parse(): void {
    while (!this.closed) {
      if (this.phase === 'greeting') {
        if (this.chunkBytes < greetingBytes) return;
        const g = this.peek(greetingBytes);
        if (g[0] !== 0xff || g[9] !== 0x7f || g[10]! < 3) throw new ProtocolViolation('not a ZMTP 3 greeting');
        if (g.toString('latin1', 12, 32).replace(/\0+$/, '') !== 'NULL') throw new ProtocolViolation('not the NULL mechanism');
        this.consume(greetingBytes);
        this.phase = 'handshake';
        continue;
      }
      const frame = this.nextFrame();
      if (frame === undefined) return;
      this.onFrame(frame.flags, frame.body);
    }
  }

  /** The next complete frame, or undefined until all of it has arrived. */
  private nextFrame(): { flags: number; body: Buffer } | undefined {
    if (this.chunkBytes < 2) return undefined;
    const flags = this.peek(1)[0]!;
    const headBytes = (flags & flagLong) !== 0 ? 9 : 2;
    if (this.chunkBytes < headBytes) return undefined;
    const head = this.peek(headBytes);
    const size = headBytes === 9 ? head.readBigUInt64BE(1) : BigInt(head[1]!);
    if (size > BigInt(this.messageBytesMax)) throw new ProtocolViolation(`frame of ${size} bytes exceeds ${this.messageBytesMax}`);
    const total = headBytes + Number(size);
    if (this.chunkBytes < total) return undefined;
    const body = Buffer.from(this.peek(total).subarray(headBytes, total));
    this.consume(total);
    return { flags, body };
  }

  private onFrame(flags: number, body: Buffer): void {
    if ((flags & flagCommand) !== 0) {
      const name = body.toString('latin1', 1, 1 + (body[0] ?? 0));
      if (this.phase === 'handshake' && name === 'READY') {
        this.phase = 'ready';
        this.flush();
      } else if (name === 'ERROR' || this.phase === 'handshake') {
        throw new ProtocolViolation(`zmtp: ${name} during ${this.phase}`);
      }
      return; // ZMTP 3.1 commands (PING…) are not sent to a 3.0 peer; any other is ignored
    }
    if (this.phase !== 'ready') throw new ProtocolViolation('message before READY');
    this.partialBytes += body.length;
    if (this.partialBytes > this.messageBytesMax) throw new ProtocolViolation(`message exceeds ${this.messageBytesMax} bytes`);
    this.partial.push(body);
    if ((flags & flagMore) !== 0) return;
    const message = this.partial;
    this.partial = [];
    this.partialBytes = 0;
    this.deliver(message);
  }

  private deliver(message: Uint8Array[]): void {
    if (this.waiting !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ done: false, value: message });
      return;
    }
    this.inbox.push(message);
    if (this.inbox.length >= inboxMessagesMax && !this.paused) {
      this.paused = true;
      this.socket?.pause();
    }
  }
}

/** A ZMTP 3.0 DEALER connected (and reconnecting) to the Unix socket at `path`. */
export function openZmtpTransport(path: string, messageBytesMax = frameBytesMax): Transport {
  return new ZmtpDealer(path, messageBytesMax);
}
