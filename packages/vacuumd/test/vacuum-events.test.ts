// The vacuumd core as a state machine (DESIGN §4, §12): failed and unanswered requests, waits as
// timers (retry, pacing, space), wake-ups, one pass at a time, stop, a failed pass, invariants
// thrown out of the event, and the same events giving the same requests.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@ctdbng/protocol';
import { InvariantError } from '@ctdbng/common';
import { VacuumResult, VacuumRoute } from '../src/index.js';
import { k, volatileDb } from './fake-dbd.js';
import { rig } from './helpers.js';

const db = volatileDb.dbId;
const passBodies = new Set(['deletedSince', 'ackDeleted', 'traverseStart', 'traverseNext', 'traverseCancel', 'vacuumPlan', 'migrateToLmaster', 'vacuumRemote', 'purgeIfUnchanged', 'reclaimSpace']);

describe('requests that fail', () => {
  it('a request dbd does not answer within ControlTimeout fails its items, with backoff', () => {
    const { dbd, state, clock, vacuumNow } = rig();
    dbd.delete('a');
    dbd.silent.add('vacuumRemote');
    const before = clock.t;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 1, failed: 1 }]);
    // The reply was waited for 5,000 virtual ms (settingsDefault.requestTimeoutMs).
    expect(clock.t - before).toBeGreaterThanOrEqual(5_000);
    const it = state.get(db, k('a'))!;
    expect(it.attempts).toBe(1);
    expect(it.nextTryMs - clock.t).toBe(100);
  });

  it('an Error reply to a step fails that step\'s items; the other routes of the batch go on', () => {
    const { dbd, reports, vacuumNow } = rig();
    dbd.delete('c');
    dbd.delete('l');
    dbd.routes.set('l', VacuumRoute.VACUUM_ROUTE_LOCAL_PURGE);
    dbd.failing.set('vacuumRemote', ErrorCode.ERR_INTERNAL);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 1, pending: 1, failed: 1 }]);
    expect(reports[0]!.counts).toMatchObject({ seen: 2, purged: 1, failed: 1 });
    expect(dbd.purged).toEqual(['l']);
  });

  it('ERR_FROZEN after the plan keeps the items without backoff and pauses the pass', () => {
    const { dbd, core, state, vacuumNow } = rig({ settings: { batchSizeCount: 1 } });
    dbd.delete('a');
    dbd.delete('b');
    dbd.failing.set('vacuumRemote', ErrorCode.ERR_FROZEN);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 2, failed: 0 }]);
    expect(state.get(db, k('a'))).toMatchObject({ attempts: 0 });
    expect(dbd.callsOf('plan')).toEqual(['plan a']);
    expect(core.gate.frozen).toBe(true);
  });

  it('a reply nobody waits for is dropped', () => {
    const { core, io } = rig();
    core.onReply(12345, { ok: false, reason: 'late' });
    expect(io.requests).toEqual([]);
    expect(core.busy()).toBe(false);
  });
});

describe('waits are timers', () => {
  it('after a failed attempt the tick comes at the item\'s next try: retries 100, 200, 400, 400 ms apart', () => {
    const { dbd, core, clock, runFor } = rig({ settings: { retryDelayMsMin: 100, retryDelayMsMax: 400 } });
    dbd.delete('x');
    dbd.remote.set('x', () => [VacuumResult.VACUUM_RESULT_LOCKED]);
    const plansAtMs: number[] = [];
    const plan = dbd.vacuumPlan.bind(dbd);
    dbd.vacuumPlan = (dbId, keys) => {
      plansAtMs.push(clock.t);
      return plan(dbId, keys);
    };
    const t0 = clock.t;
    core.start();
    runFor(1_600);
    // When the passes end the tick is armed at the earliest next try (not at VacuumInterval, 10 s
    // here); each attempt is 1 ms (the pace after its batch) past the previous one's delay.
    expect(plansAtMs.map((t) => t - t0)).toEqual([0, 101, 302, 703, 1_104, 1_505]);
  });

  it('an item that stays due while dbd is frozen does not make vacuumd ask dbd again every few ms: one tick per VacuumInterval', () => {
    const { dbd, core, io, state, runFor } = rig({ settings: { intervalMs: 1000 } });
    dbd.delete('x');
    dbd.remote.set('x', () => [VacuumResult.VACUUM_RESULT_LOCKED]);
    core.start();
    runFor(10);
    expect(state.get(db, k('x'))).toMatchObject({ attempts: 1 });
    dbd.frozen = true;
    const before = io.requests.length;
    runFor(5_000);
    // A tick is GetDbMap + GetNodeState; the item, due again 100 ms after its failure, cannot be
    // vacuumed while dbd is frozen.
    const ticks = io.requests.slice(before).filter((r) => r.body === 'getDbMap').length;
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(ticks).toBeLessThanOrEqual(6);
  });

  it('after a batch vacuumd waits as long as the batch took (§4.7), at most 50 ms', () => {
    const { dbd, io, clock, vacuumNow } = rig({ settings: { batchSizeCount: 1 } });
    for (const key of ['a', 'b', 'c']) dbd.delete(key);
    const plansAtMs: number[] = [];
    const plan = dbd.vacuumPlan.bind(dbd);
    dbd.vacuumPlan = (dbId, keys) => {
      plansAtMs.push(clock.t);
      return plan(dbId, keys);
    };
    io.replyDelayMs = 5; // plan, StoreTombstone, TryDelete, purge: a batch of 20 ms, then 20 ms idle
    vacuumNow('v.db');
    expect([plansAtMs[1]! - plansAtMs[0]!, plansAtMs[2]! - plansAtMs[1]!]).toEqual([40, 40]);
    io.replyDelayMs = 30; // a batch of 120 ms: the pause is capped at 50
    for (const key of ['d', 'e']) dbd.delete(key);
    plansAtMs.length = 0;
    vacuumNow('v.db');
    expect(plansAtMs[1]! - plansAtMs[0]!).toBe(170);
  });

  it('ReclaimSpace steps are 2 ms apart', () => {
    const { dbd, io, vacuumNow } = rig();
    dbd.delete('a');
    dbd.freelistPages = 1000;
    vacuumNow('v.db');
    const steps = io.trace.filter((l) => l.endsWith(' reclaimSpace')).map((l) => Number(l.split(' ')[0]));
    expect(steps.slice(1).map((t, i) => t - steps[i]!)).toEqual([2, 2, 2]);
  });
});

describe('wake-ups', () => {
  it('FeedGrew wakes a pass of that db; a db not known yet is looked up first (GetDbMap)', () => {
    const { dbd, core, io, settle } = rig();
    dbd.delete('a');
    core.wake(db);
    settle();
    expect(io.requests.map((r) => r.body).slice(0, 3)).toEqual(['getDbMap', 'getNodeState', 'deletedSince']);
    expect(dbd.purged).toEqual(['a']);
  });

  it('a thaw event gives every db a pass; routes are planned afresh', () => {
    const { dbd, core, settle } = rig();
    dbd.delete('a');
    dbd.frozen = true;
    core.start();
    settle();
    expect(core.gate.frozen).toBe(true);
    expect(dbd.callsOf('plan')).toEqual([]);
    dbd.frozen = false;
    core.onFreezeEvent(false, 8);
    settle();
    expect(dbd.callsOf('plan')).toEqual(['plan a']);
    expect(dbd.purged).toEqual(['a']);
  });

  it('each tick reads dbd\'s tunables first when the shell asks for them (setvar)', () => {
    const seen: { name: string; value: number }[][] = [];
    const { dbd, core, io, settle } = rig({ deps: { onTunables: (list) => seen.push([...list]) } });
    dbd.tunables = [{ name: 'VacuumInterval', value: 7 }];
    core.start();
    settle();
    expect(seen).toEqual([[{ name: 'VacuumInterval', value: 7 }]]);
    expect(io.requests.map((r) => r.body).slice(0, 3)).toEqual(['listTunables', 'getDbMap', 'getNodeState']);
  });
});

describe('an idle tick', () => {
  it('asks dbd for its tunables, the db map and the node state at once: one round trip of waiting, not three', () => {
    const seen: number[] = [];
    const { dbd, core, io, clock, settle } = rig({ deps: { onTunables: (list) => seen.push(list.length) } });
    dbd.tunables = [{ name: 'VacuumInterval', value: 1 }];
    io.replyDelayMs = 5;
    const t0 = clock.t;
    core.start();
    // All three sent at the tick's moment, before any answer has come back.
    expect(io.trace).toEqual([`${t0} 1 listTunables`, `${t0} 2 getDbMap`, `${t0} 3 getNodeState`]);
    settle();
    expect(seen).toEqual([1]);
    // Every answer came 5 ms later: the refresh was done after one round trip (then the passes).
    expect(io.trace.slice(3, 6)).toEqual([`${t0 + 5} 1 tunableList`, `${t0 + 5} 2 dbMap`, `${t0 + 5} 3 nodeState`]);
  });

  it('a db map that does not come keeps vacuumd waiting (no pass); the tunables that came are applied', () => {
    const seen: number[] = [];
    const { dbd, core, io, settle } = rig({ deps: { onTunables: (list) => seen.push(list.length) } });
    dbd.tunables = [{ name: 'VacuumInterval', value: 1 }];
    dbd.failing.set('getDbMap', ErrorCode.ERR_INTERNAL);
    core.start();
    settle();
    expect(seen).toEqual([1]);
    expect(io.requests.map((r) => r.body)).toEqual(['listTunables', 'getDbMap', 'getNodeState']);
    expect(io.timers.has('tick')).toBe(true);
  });
});

describe('feed pages', () => {
  it('a pass pulls the feed in pages of VacuumBatchSize entries (one batch held at a time, not four), until caught up', () => {
    const { dbd, core, io, settle } = rig({ settings: { batchSizeCount: 10 } });
    for (let i = 0; i < 35; i++) dbd.delete(`k${i}`);
    core.wake(db);
    settle();
    const pages = io.requests.filter((r) => r.body === 'deletedSince').map((r) => r.deletedSince!.limit);
    expect(pages).toEqual([10, 10, 10, 10]);
    expect(dbd.purged).toHaveLength(35);
  });
});

describe('one pass at a time', () => {
  it('VacuumNow waits for the running pass and answers when its own is done', () => {
    const { dbd, core, io, reports, vacuumNowAnswer } = rig({ settings: { batchSizeCount: 1 } });
    for (const key of ['a', 'b', 'c']) dbd.delete(key);
    io.replyDelayMs = 5;
    let passRequestsMax = 0;
    const request = io.request.bind(io);
    io.request = (body, timeoutMs) => {
      const inFlight = core.inFlight().filter((r) => passBodies.has(r.what)).length;
      if (passBodies.has(Object.keys(body)[0]!)) passRequestsMax = Math.max(passRequestsMax, inFlight + 1);
      return request(body, timeoutMs);
    };
    core.wake(db);
    const answer = vacuumNowAnswer('v.db');
    expect(passRequestsMax).toBe(1);
    expect(reports).toHaveLength(2);
    expect(answer).toEqual({ ok: true, dbs: [{ db: 'v.db', purged: 0, pending: 0, failed: 0 }] });
    expect(reports[0]!.counts.purged).toBe(3);
  });

  it('the running pass says where it is: its step, its batch\'s step, the request it waits for', () => {
    const { dbd, core, io, runFor } = rig({ settings: { batchSizeCount: 2 } });
    for (const key of ['a', 'b', 'c']) dbd.delete(key);
    io.replyDelayMs = 5;
    core.wake(db);
    while (dbd.callsOf('remote').length === 0) runFor(1);
    const store = io.requests.at(-1)!;
    expect(store.body).toBe('vacuumRemote');
    expect(core.passState()).toEqual({ db: 'v.db', step: 'batch', batch: { items: 2, step: 'store' }, waitingFor: [store.requestId] });
    while (core.passState()?.step !== 'pace') runFor(1);
    expect(core.passState()).toEqual({ db: 'v.db', step: 'pace', batch: undefined, waitingFor: [] });
    expect(io.timers.has('pace')).toBe(true);
  });

  it('stop lets the running batch finish, then calls back; nothing starts after it', () => {
    const { dbd, core, io, state, runFor, settle, vacuumNowAnswer } = rig({ settings: { batchSizeCount: 1 } });
    core.start();
    settle();
    dbd.delete('a');
    dbd.delete('b');
    io.replyDelayMs = 5;
    core.wake(db);
    while (dbd.callsOf('plan').length === 0) runFor(1);
    let stopped = 0;
    core.stop(() => (stopped += 1));
    expect(stopped).toBe(0);
    settle();
    expect(stopped).toBe(1);
    expect(dbd.purged).toEqual(['a']);
    expect(state.has(db, k('a'))).toBe(false);
    expect(dbd.callsOf('plan')).toEqual(['plan a']);
    expect(io.timers.size).toBe(0);
    expect(vacuumNowAnswer('v.db')).toMatchObject({ ok: false, error: { code: ErrorCode.ERR_SHUTTING_DOWN } });
  });
});

describe('failures inside the core', () => {
  it('a pass whose state file fails is abandoned: VacuumNow gets the error, the next pass runs', () => {
    const { dbd, state, vacuumNowAnswer, vacuumNow } = rig();
    dbd.delete('a');
    const apply = state.applyOutcomes.bind(state);
    state.applyOutcomes = () => {
      throw new Error('disk I/O error');
    };
    expect(vacuumNowAnswer('v.db')).toMatchObject({ ok: false, error: { message: 'disk I/O error' } });
    state.applyOutcomes = apply;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 1, pending: 0, failed: 0 }]);
  });

  it('a broken invariant is thrown out of the event that found it', () => {
    const { core, io } = rig();
    const request = io.request.bind(io);
    io.request = (body, timeoutMs) => {
      request(body, timeoutMs);
      return 1; // a request id given twice
    };
    // The refresh asks for the db map and the node state at once: the second id is a repeat.
    expect(() => core.vacuumNow('v.db', () => undefined)).toThrow(InvariantError);
  });

  it('an answer delivered inside its own request is a broken invariant (the io must answer later)', () => {
    const { core, io } = rig();
    const request = io.request.bind(io);
    io.request = (body, timeoutMs) => {
      const id = request(body, timeoutMs);
      core.onReply(id, { ok: false, reason: 'too soon' });
      return id;
    };
    expect(() => core.vacuumNow('v.db', () => undefined)).toThrow(InvariantError);
  });

  it('a TraverseNext that fails cancels the traverse; the pass goes on with what it found', () => {
    const { dbd, vacuumNow } = rig();
    dbd.local = ['t1', 't2', 't3', 't4', 't5'].map((x) => ({ key: k(x), rsn: 3, dmaster: 0, dataBytes: 0 }));
    dbd.failing.set('traverseNext', ErrorCode.ERR_INTERNAL);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 2, pending: 0, failed: 0 }]);
    expect(dbd.calls.filter((c) => c.startsWith('traverse'))).toEqual(['traverse', 'traverse-cancel']);
  });
});

describe('determinism', () => {
  it('the same events give the same requests at the same virtual times', () => {
    const run = (): string[] => {
      const { dbd, core, io, runFor } = rig({ settings: { batchSizeCount: 2 } });
      for (let i = 0; i < 7; i++) dbd.delete(`key${i}`);
      dbd.remote.set('key3', () => [VacuumResult.VACUUM_RESULT_LOCKED]);
      dbd.routes.set('key5', VacuumRoute.VACUUM_ROUTE_BUSY);
      io.replyDelayMs = 3;
      core.start();
      runFor(30_000);
      return io.trace;
    };
    const first = run();
    expect(first.length).toBeGreaterThan(20);
    expect(run()).toEqual(first);
  });
});
