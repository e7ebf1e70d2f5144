// dbd events (DESIGN §7): a SUB socket on ipc://$CTDBNG_BASE/run/dbd-events.sock. The last frame
// of each message is an encoded DbdEvent. PUB drops when a subscriber is slow or not yet joined,
// so the core also polls GetNodeState every heartbeat; an event only makes it look sooner.
import { Subscriber } from 'zeromq';
import { v1 } from '@ctdbng/protocol';
import { zmqReconnect, type Logger } from '@ctdbng/common';

export type DbdEvent = InstanceType<typeof v1.DbdEvent>;

export const eventFrameBytesMax = 64 * 1024;

export class DbdEvents {
  private readonly sub: Subscriber;
  private closed = false;

  constructor(private readonly path: string, private readonly log: Logger) {
    this.sub = new Subscriber({ linger: 0, maxMessageSize: eventFrameBytesMax, receiveHighWaterMark: 10_000, ...zmqReconnect });
  }

  connect(): void {
    this.sub.connect(`ipc://${this.path}`);
    this.sub.subscribe();
  }

  async run(onEvent: (ev: DbdEvent) => void): Promise<void> {
    try {
      for await (const frames of this.sub) {
        const last = frames[frames.length - 1];
        if (last === undefined) continue;
        let ev: DbdEvent;
        try {
          ev = v1.DbdEvent.decode(last);
        } catch (err) {
          this.log.warn({ err: String(err) }, 'undecodable dbd event dropped');
          continue;
        }
        this.log.debug({ event: ev.event }, 'dbd event');
        onEvent(ev);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  close(): void {
    this.closed = true;
    this.sub.close();
  }
}
