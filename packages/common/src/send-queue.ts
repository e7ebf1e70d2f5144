// zeromq.js allows one send in progress per socket: a bounded FIFO in front of each socket,
// shared by the daemons' shells. A message may carry its own failure callback (a request is
// failed at once, not timed out); otherwise the queue's is called.
export interface Sendable {
  send(msg: (Uint8Array | string)[]): Promise<void>;
}

export type SendFailure = (err: unknown, frames: (Uint8Array | string)[]) => void;

export class SendQueueFullError extends Error {
  override readonly name = 'SendQueueFullError';
}

interface Item {
  frames: (Uint8Array | string)[];
  onFailure: SendFailure | undefined;
}

export class SendQueue {
  private readonly queue: Item[] = [];
  private draining = false;
  private closed = false;

  constructor(
    private readonly socket: Sendable,
    private readonly lengthMax: number,
    private readonly onFailure: SendFailure = () => undefined,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  push(frames: (Uint8Array | string)[], onFailure?: SendFailure): void {
    const fail = onFailure ?? this.onFailure;
    if (this.closed) return fail(new Error('socket closed'), frames);
    if (this.queue.length >= this.lengthMax) return fail(new SendQueueFullError(`send queue full (${this.lengthMax})`), frames);
    this.queue.push({ frames, onFailure });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!;
        try {
          await this.socket.send(item.frames);
        } catch (err) {
          (item.onFailure ?? this.onFailure)(err, item.frames);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Drops what is queued without calling failure callbacks (the socket is closing). */
  clear(): void {
    this.queue.length = 0;
  }

  /** Fails what is queued and refuses further messages. */
  close(): void {
    this.closed = true;
    for (const item of this.queue.splice(0)) (item.onFailure ?? this.onFailure)(new Error('socket closed'), item.frames);
  }
}
