// dbd's events (DESIGN §7): a SUB on ipc://$CTDBNG_BASE/run/dbd-events.sock, one DbdEvent per
// message. FreezeEvent pauses and resumes vacuuming; FeedGrew asks for a pass of that db soon
// (debounced, so a burst of deletes makes one pass). PUB drops for a slow or late subscriber, so
// the core also polls NodeState and runs a pass every VacuumInterval.
import { Subscriber } from 'zeromq';
import { ctdbng } from '@ctdbng/protocol';
import type { Logger } from '@ctdbng/common';

export interface EventHandlers {
  onFreeze(frozen: boolean, generation: number): void;
  onFeedGrew(dbId: number): void;
}

export class EventsSubscriber {
  private readonly sub = new Subscriber({ linger: 0, receiveHighWaterMark: 100_000 });
  private closed = false;

  constructor(private readonly path: string, private readonly log: Logger, private readonly h: EventHandlers) {
    this.sub.connect(`ipc://${path}`);
    this.sub.subscribe();
  }

  async run(): Promise<void> {
    try {
      for await (const frames of this.sub) {
        const last = frames[frames.length - 1];
        if (last === undefined) continue;
        let ev: ctdbng.v1.DbdEvent;
        try {
          ev = ctdbng.v1.DbdEvent.decode(last);
        } catch (err) {
          this.log.debug({ err: String(err) }, 'undecodable dbd event ignored');
          continue;
        }
        if (ev.event === 'freeze' && ev.freeze) this.h.onFreeze(ev.freeze.frozen ?? false, ev.freeze.generation ?? 0);
        else if (ev.event === 'feedGrew' && ev.feedGrew) this.h.onFeedGrew(ev.feedGrew.dbId ?? 0);
      }
    } catch (err) {
      if (!this.closed) this.log.error({ err: String(err), socket: this.path }, 'events socket failed');
    }
  }

  close(): void {
    this.closed = true;
    this.sub.close();
  }
}

/** Coalesces wake-ups per db: the first request arms a timer, later ones within it join it. */
export class Debouncer {
  private readonly armed = new Map<number, NodeJS.Timeout>();

  constructor(private readonly delayMs: number, private readonly fire: (dbId: number) => void) {}

  request(dbId: number): void {
    if (this.armed.has(dbId)) return;
    this.armed.set(dbId, setTimeout(() => {
      this.armed.delete(dbId);
      this.fire(dbId);
    }, this.delayMs));
  }

  clear(): void {
    for (const t of this.armed.values()) clearTimeout(t);
    this.armed.clear();
  }
}
