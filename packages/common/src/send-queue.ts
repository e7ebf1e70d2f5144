// zeromq.js allows one send in progress per socket: a bounded FIFO in front of each socket,
// shared by the daemons' shells; a message pushed while none is in progress goes at once. A
// message may carry its own failure callback (a request is failed at once, not timed out);
// otherwise the queue's is called.
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
    if (this.draining) {
      this.queue.push({ frames, onFailure });
      return;
    }
    // Nothing in progress (the common case): send now, without an item or a drain loop.
    this.draining = true;
    this.sendOne(frames, onFailure);
  }

  private sendOne(frames: (Uint8Array | string)[], onFailure: SendFailure | undefined): void {
    const failed = (err: unknown): void => {
      (onFailure ?? this.onFailure)(err, frames);
      this.sent();
    };
    let sending: Promise<void>;
    try {
      sending = this.socket.send(frames);
    } catch (err) {
      // A socket closed under us throws at once instead of rejecting.
      failed(err);
      return;
    }
    sending.then(this.sent, failed);
  }

  /** The send in progress is done: the next queued message goes, or the queue is idle again. */
  private readonly sent = (): void => {
    const item = this.closed ? undefined : this.queue.shift();
    if (item === undefined) {
      this.draining = false;
      return;
    }
    this.sendOne(item.frames, item.onFailure);
  };

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
