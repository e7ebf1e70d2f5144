// Retries, the state file across restarts, the feed cursor, freeze, the full scan, space and the
// end-of-pass count (DESIGN §4.1, §4.4–7).
import { describe, expect, it } from 'vitest';
import { InvariantError } from '@ctdbng/common';
import { assertCountsAddUp, emptyCounts, retryDelayMs, StateFile, VacuumResult, VacuumRoute } from '../src/index.js';
import { FakeDbd, k, volatileDb } from './fake-dbd.js';
import { rig, tempStatePath } from './helpers.js';

const db = volatileDb.dbId;

describe('retries', () => {
  it('retry delays double from VacuumRetryMin and are capped at VacuumRetryMax', () => {
    const p = { retryDelayMsMin: 100, retryDelayMsMax: 1000 };
    expect([1, 2, 3, 4, 5, 6, 60].map((a) => retryDelayMs(p, a))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('a LOCKED key is retried with doubling backoff, capped, and not before it is due', () => {
    const { dbd, clock, state, tick } = rig({ settings: { retryDelayMsMin: 100, retryDelayMsMax: 400 } });
    dbd.delete('x');
    dbd.remote.set('x', () => [VacuumResult.VACUUM_RESULT_LOCKED]);
    const seen: { attempts: number; delay: number }[] = [];
    for (let i = 0; i < 4; i++) {
      tick();
      const it = state.get(db, k('x'))!;
      seen.push({ attempts: it.attempts, delay: it.nextTryMs - clock.t });
      // A pass before the item is due does not touch it.
      const plans = dbd.callsOf('plan').length;
      clock.t = it.nextTryMs - 1;
      tick();
      expect(dbd.callsOf('plan').length).toBe(plans);
      clock.t = it.nextTryMs;
    }
    expect(seen.map((s) => s.attempts)).toEqual([1, 2, 3, 4]);
    expect(seen.map((s) => s.delay)).toEqual([100, 200, 400, 400]);
  });
});

describe('the state file', () => {
  it('a restart keeps the pending items and the feed cursor (the file is reopened)', () => {
    const path = tempStatePath();
    const dbd = new FakeDbd();
    for (let i = 0; i < 50; i++) dbd.delete(`key${i}`);
    dbd.routes.set('key7', VacuumRoute.VACUUM_ROUTE_BUSY);
    const first = rig({ dbd, statePath: path });
    dbd.routes = new Map(Array.from({ length: 50 }, (_, i) => [`key${i}`, VacuumRoute.VACUUM_ROUTE_BUSY] as const));
    first.vacuumNow('v.db');
    first.state.close();

    const second = rig({ dbd, statePath: path });
    expect(second.state.counts(db).pending).toBe(50);
    expect(second.state.cursor(db)).toEqual({ epoch: 1, seq: 50 });
    dbd.routes.clear();
    dbd.calls = [];
    expect(second.vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 50, pending: 0, failed: 0 }]);
    expect(dbd.callsOf('deletedSince')).toEqual(['deletedSince 11 50']);
    expect(dbd.purged).toHaveLength(50);
  });

  it('a newer tombstone of a pending key replaces it; an older one is ignored', () => {
    const state = new StateFile(':memory:');
    state.storeFeed(db, { epoch: 1, seq: 1 }, [{ key: k('a'), rsn: 5 }], 10);
    state.storeFeed(db, { epoch: 1, seq: 2 }, [{ key: k('a'), rsn: 3 }], 20);
    expect(state.get(db, k('a'))!.rsn).toBe(5);
    state.storeFeed(db, { epoch: 1, seq: 3 }, [{ key: k('a'), rsn: 9 }], 30);
    expect(state.get(db, k('a'))).toMatchObject({ rsn: 9, firstSeenMs: 10, attempts: 0 });
    state.close();
  });

  it('an epoch change restarts the cursor at 0 and keeps the pending items', () => {
    const { dbd, state, vacuumNow } = rig();
    dbd.delete('a');
    dbd.delete('b');
    dbd.routes.set('a', VacuumRoute.VACUUM_ROUTE_BUSY);
    vacuumNow('v.db');
    expect(state.cursor(db)).toEqual({ epoch: 1, seq: 2 });
    // dbd restarted: the feed was wiped and starts over with a new epoch.
    dbd.epoch = 2;
    dbd.feed = [];
    dbd.delete('c');
    dbd.calls = [];
    vacuumNow('v.db');
    expect(dbd.callsOf('deletedSince')).toEqual(['deletedSince 11 2', 'deletedSince 11 0']);
    expect(state.cursor(db)).toEqual({ epoch: 2, seq: 1 });
    expect(state.has(db, k('a'))).toBe(true);
    expect(dbd.purged).toContain('c');
  });
});

describe('pause while frozen', () => {
  it('no work while dbd is frozen; after the thaw the items are planned again', () => {
    const { dbd, core, vacuumNow } = rig();
    dbd.delete('a');
    dbd.frozen = true;
    core.onFreezeEvent(true, 8);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 0, failed: 0 }]);
    expect(dbd.callsOf('plan')).toEqual([]);
    // The thaw event is lost (PUB drops): vacuumNow polls NodeState, which says thawed.
    dbd.frozen = false;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 1, pending: 0, failed: 0 }]);
  });

  it('a plan answered frozen stops the pass without backing the items off', () => {
    const { dbd, core, state, clock, vacuumNow } = rig();
    dbd.delete('a');
    dbd.planFrozen = true;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 1, failed: 0 }]);
    expect(state.get(db, k('a'))).toMatchObject({ attempts: 0 });
    expect(state.get(db, k('a'))!.nextTryMs).toBeLessThanOrEqual(clock.t);
    expect(core.gate.frozen).toBe(true);
    dbd.planFrozen = false;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 1, pending: 0, failed: 0 }]);
  });

  it('a request refused with ERR_FROZEN pauses the pass', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('a');
    vacuumNow('v.db');
    dbd.delete('b');
    dbd.frozen = true;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 0, failed: 0 }]);
    expect(dbd.callsOf('plan')).toEqual(['plan a']);
  });
});

describe('full scan and space', () => {
  it('the full scan adds this node\'s tombstones that are not pending', () => {
    const { dbd, vacuumNow } = rig();
    dbd.local = [
      { key: k('live'), rsn: 3, dmaster: 0, dataBytes: 5 },
      { key: k('ours'), rsn: 4, dmaster: 0, dataBytes: 0 },
      { key: k('theirs'), rsn: 4, dmaster: 1, dataBytes: 0 },
      { key: k('pending'), rsn: 6, dmaster: 0, dataBytes: 0 },
    ];
    dbd.delete('pending', 6);
    vacuumNow('v.db');
    expect(dbd.callsOf('plan')).toEqual(['plan ours,pending']);
  });

  it('after purges ReclaimSpace runs in steps of 256 pages until the free list is small', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('a');
    dbd.freelistPages = 1000;
    vacuumNow('v.db');
    expect(dbd.callsOf('reclaim')).toEqual(['reclaim 256', 'reclaim 256', 'reclaim 256', 'reclaim 256']);
    dbd.calls = [];
    vacuumNow('v.db');
    expect(dbd.callsOf('reclaim')).toEqual([]);
  });
});

describe('the end-of-pass count', () => {
  it('seen must equal purged + dropped + migrated + retried + failed', () => {
    const c = { ...emptyCounts(), seen: 3, purged: 1, dropped: 1 };
    expect(() => assertCountsAddUp(c)).toThrow(InvariantError);
    c.failed = 1;
    expect(() => assertCountsAddUp(c)).not.toThrow();
  });

  it('every pass report adds up', () => {
    const { dbd, reports, vacuumNow } = rig({ settings: { batchSizeCount: 3 } });
    for (let i = 0; i < 10; i++) dbd.delete(`k${i}`);
    dbd.routes.set('k1', VacuumRoute.VACUUM_ROUTE_BUSY);
    dbd.routes.set('k2', VacuumRoute.VACUUM_ROUTE_GONE);
    vacuumNow('v.db');
    const c = reports[0]!.counts;
    expect(c.seen).toBe(10);
    expect(c.purged + c.dropped + c.migrated + c.retried + c.failed).toBe(10);
  });
});
