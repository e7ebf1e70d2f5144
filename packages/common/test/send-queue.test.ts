// The send queue in front of a zeromq.js socket: one send in progress at a time, messages in
// order, failures to the message's callback or the queue's, a bound, and a close.
import { describe, expect, test } from 'vitest';
import { SendQueue, SendQueueFullError, type Sendable } from '@ctdbng/common';

/** A socket whose sends complete when the test says so; it fails if two overlap. */
class FakeSocket implements Sendable {
  readonly sent: string[] = [];
  private inProgress: { resolve(): void; reject(err: Error): void } | undefined;

  send(msg: (Uint8Array | string)[]): Promise<void> {
    if (this.inProgress !== undefined) throw new Error('EBUSY: a send is in progress');
    this.sent.push(String(msg[0]));
    return new Promise((resolve, reject) => {
      this.inProgress = { resolve, reject };
    });
  }

  async complete(err?: Error): Promise<void> {
    const p = this.inProgress!;
    this.inProgress = undefined;
    if (err === undefined) p.resolve();
    else p.reject(err);
    await new Promise((r) => setImmediate(r));
  }
}

describe('SendQueue', () => {
  test('a message pushed while nothing is in progress is sent at once; later ones wait their turn in order', async () => {
    const sock = new FakeSocket();
    const q = new SendQueue(sock, 10);
    q.push(['a']);
    expect(sock.sent).toEqual(['a']);
    q.push(['b']);
    q.push(['c']);
    expect(sock.sent).toEqual(['a']);
    expect(q.length).toBe(2);
    await sock.complete();
    expect(sock.sent).toEqual(['a', 'b']);
    await sock.complete();
    await sock.complete();
    expect(sock.sent).toEqual(['a', 'b', 'c']);
    q.push(['d']);
    expect(sock.sent).toEqual(['a', 'b', 'c', 'd']);
  });

  test("a failed send goes to the message's own callback, else the queue's, and the next one still goes", async () => {
    const sock = new FakeSocket();
    const failures: string[] = [];
    const q = new SendQueue(sock, 10, (_err, frames) => failures.push(`queue:${String(frames[0])}`));
    q.push(['a'], (_err, frames) => failures.push(`own:${String(frames[0])}`));
    q.push(['b']);
    await sock.complete(new Error('EHOSTUNREACH'));
    expect(failures).toEqual(['own:a']);
    expect(sock.sent).toEqual(['a', 'b']);
    await sock.complete(new Error('EHOSTUNREACH'));
    expect(failures).toEqual(['own:a', 'queue:b']);
  });

  test('a socket that throws at once fails that message and leaves the queue usable', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const sock: Sendable = {
      send: () => {
        calls++;
        if (calls === 1) throw new Error('socket closed');
        return Promise.resolve();
      },
    };
    const q = new SendQueue(sock, 10, (err) => failures.push(err));
    q.push(['a']);
    expect(failures).toHaveLength(1);
    q.push(['b']);
    expect(calls).toBe(2);
  });

  test('a full queue refuses with SendQueueFullError; close fails what waits and refuses more', async () => {
    const sock = new FakeSocket();
    const failures: unknown[] = [];
    const q = new SendQueue(sock, 1, (err) => failures.push(err));
    q.push(['a']); // in progress
    q.push(['b']); // queued: the queue is full
    q.push(['c']);
    expect(failures[0]).toBeInstanceOf(SendQueueFullError);
    q.close();
    expect(failures).toHaveLength(2);
    q.push(['d']);
    expect(failures).toHaveLength(3);
    await sock.complete();
    expect(sock.sent).toEqual(['a']);
  });
});
