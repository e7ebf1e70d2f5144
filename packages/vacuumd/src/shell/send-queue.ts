// zeromq.js allows one send in progress per socket: a bounded FIFO in front of each socket
// (the pattern of packages/dbd/src/shell/send-queue.ts; daemons never import each other).
export interface Sendable {
  send(msg: (Uint8Array | string)[]): Promise<void>;
}

export class SendQueue {
  private readonly queue: (Uint8Array | string)[][] = [];
  private draining = false;

  constructor(
    private readonly socket: Sendable,
    private readonly lengthMax: number,
    private readonly onFailure: (err: unknown, frames: (Uint8Array | string)[]) => void,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  push(frames: (Uint8Array | string)[]): void {
    if (this.queue.length >= this.lengthMax) {
      this.onFailure(new Error(`send queue full (${this.lengthMax})`), frames);
      return;
    }
    this.queue.push(frames);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const frames = this.queue.shift()!;
        try {
          await this.socket.send(frames);
        } catch (err) {
          this.onFailure(err, frames);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  clear(): void {
    this.queue.length = 0;
  }
}
