// Lock lease renewal (DESIGN §2.1.7): one timer per client renews every held lock each lease_ms / 3
// until it is released, and stops when nothing is held.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { HeldLocks, type HeldLock } from '../src/held-locks.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface StubLock extends HeldLock {
  renewals: number;
  abandoned: number;
}

function stub(everyMs: number): StubLock {
  const lock: StubLock = {
    renewDueMs: everyMs > 0 ? performance.now() + everyMs : Infinity,
    renewEveryMs: everyMs,
    renewals: 0,
    abandoned: 0,
    renew: () => void lock.renewals++,
    abandon: () => void lock.abandoned++,
  };
  return lock;
}

describe('HeldLocks', () => {
  test('a held lock is renewed every lease_ms / 3 until it is released, then the timer stops', () => {
    const locks = new HeldLocks();
    const a = stub(20);
    locks.add(a);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(19);
    expect(a.renewals).toBe(0);
    vi.advanceTimersByTime(1);
    expect(a.renewals).toBe(1);
    vi.advanceTimersByTime(20);
    expect(a.renewals).toBe(2);
    locks.delete(a);
    vi.advanceTimersByTime(100);
    expect(a.renewals).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('many locks taken and released within their lease arm one timer and renew nothing', () => {
    const locks = new HeldLocks();
    for (let i = 0; i < 1_000; i++) {
      const l = stub(20);
      locks.add(l);
      locks.delete(l);
    }
    expect(vi.getTimerCount()).toBe(1);
    expect(locks.size).toBe(0);
    vi.advanceTimersByTime(20);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('locks of different leases share the timer, each renewed at its own period', () => {
    const locks = new HeldLocks();
    const slow = stub(30);
    locks.add(slow);
    const fast = stub(10);
    locks.add(fast); // earlier than the armed timer: re-armed, still one timer
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(30);
    expect(fast.renewals).toBe(3);
    expect(slow.renewals).toBe(1);
  });

  test('a lock with no lease (0) is never renewed but is abandoned at close', () => {
    const locks = new HeldLocks();
    const none = stub(0);
    locks.add(none);
    expect(vi.getTimerCount()).toBe(0);
    locks.abandonAll();
    expect(none.abandoned).toBe(1);
    expect(none.renewals).toBe(0);
  });

  test('abandonAll abandons every held lock once, clears the timer and forgets them', () => {
    const locks = new HeldLocks();
    const a = stub(20);
    const b = stub(20);
    locks.add(a);
    locks.add(b);
    locks.abandonAll();
    expect([a.abandoned, b.abandoned]).toEqual([1, 1]);
    expect(vi.getTimerCount()).toBe(0);
    expect(locks.size).toBe(0);
    vi.advanceTimersByTime(100);
    expect(a.renewals + b.renewals).toBe(0);
  });
});
