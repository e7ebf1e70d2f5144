// zeromq.js allows one send in progress per socket: a bounded FIFO in front of each socket.
// Each message carries its own failure callback (a request is failed at once, not timed out).
export interface Sendable {
  send(msg: (Uint8Array | string)[]): Promise<void>;
}

type OnFailure = (err: unknown) => void;

export class SendQueueFullError extends Error {
  override readonly name = 'SendQueueFullError';
}

export class SendQueue {
  private readonly queue: { frames: (Uint8Array | string)[]; onFailure: OnFailure }[] = [];
  private draining = false;
  private closed = false;

  constructor(private readonly socket: Sendable, private readonly lengthMax: number) {}

  push(frames: (Uint8Array | string)[], onFailure: OnFailure): void {
    if (this.closed) return onFailure(new Error('socket closed'));
    if (this.queue.length >= this.lengthMax) return onFailure(new SendQueueFullError(`send queue full (${this.lengthMax})`));
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
          item.onFailure(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  close(): void {
    this.closed = true;
    const failed = this.queue.splice(0);
    for (const item of failed) item.onFailure(new Error('socket closed'));
  }
}
