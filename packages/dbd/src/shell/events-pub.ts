// The events PUB socket (DESIGN §7): ipc://$CTDBNG_BASE/run/dbd-events.sock, one DbdEvent per
// message. PUB drops for slow or late subscribers, so they also poll GetNodeState.
import { Publisher } from 'zeromq';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { ctdbng } from '@ctdbng/protocol';
import type { Logger } from '@ctdbng/common';
import { SendQueue } from '@ctdbng/common';

export const eventsQueueMax = 10_000;

export class EventsPublisher {
  private readonly pub = new Publisher({ linger: 0, sendHighWaterMark: 10_000 });
  private readonly queue: SendQueue;

  constructor(private readonly path: string, private readonly log: Logger) {
    this.queue = new SendQueue(this.pub, eventsQueueMax, (err) => this.log.debug({ err: String(err) }, 'event not published'));
  }

  async bind(): Promise<void> {
    if (existsSync(this.path)) rmSync(this.path);
    await this.pub.bind(`ipc://${this.path}`);
    chmodSync(this.path, 0o660);
  }

  publish(event: ctdbng.v1.DbdEvent.$Properties): void {
    this.queue.push([ctdbng.v1.DbdEvent.encode(event).finish()]);
  }

  close(): void {
    this.queue.clear();
    this.pub.close();
  }
}
