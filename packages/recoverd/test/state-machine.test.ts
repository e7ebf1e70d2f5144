// The recoverd core as a state machine (DESIGN §12, STYLE §2 "One contract for the three cores"):
// handlers run to completion, controls are requests answered through onReply, waits are timers.
// What the driving must not change: the pacing of a recovery, the result whatever the order of
// the answers, answers nobody waits for, one own-dbd control of a kind at a time (but a
// GetNodeState unanswered for a heartbeat), invariants thrown from the handler, and the same
// trace from the same seed.
import { describe, expect, it } from 'vitest';
import { defaultTunables, InvariantError, parseNodesFile, silentLogger, type ReplyResult, type RequestId } from '@ctdbng/common';
import type { EnvelopeInit } from '@ctdbng/protocol';
import { dbsInParallelMax } from '../src/core/db-pool.js';
import { nullMetrics, type DbdTarget, type RecoverdIo, type TimerId } from '../src/core/io.js';
import { LeaderLoop, type LeaderDeps } from '../src/core/leader.js';
import { pullRecordsMax } from '../src/core/recover-db.js';
import { RecoverdCore } from '../src/core/recoverd-core.js';
import { Recovery, type RecoveryResult } from '../src/core/recovery.js';
import { DirectDbds, FakeDbd, rec, roundTrip, type Rec } from './fake-dbd.js';
import { MemVotes, Prng, SimCluster } from './sim-net.js';

const G = 111;
const NEXT = 2 ** 32 + 1;

/** Three nodes in generation G with `dbs` volatile dbs (ids 1…dbs), each with a few records per node. */
function cluster(dbs: number, extra: (pnn: number, dbId: number) => Rec[] = () => []): Map<number, FakeDbd> {
  const out = new Map([0, 1, 2].map((p) => [p, new FakeDbd(p)]));
  for (const d of out.values()) {
    d.generation = G;
    d.vnnmap = [0, 1, 2];
    for (let id = 1; id <= dbs; id++) {
      d.addDb(id, `db${id}.tdb`, [rec(`k${d.pnn}`, d.pnn + 1, d.pnn, `v${d.pnn}@${id}`), rec('shared', 10 + d.pnn, d.pnn, `s${d.pnn}`), ...extra(d.pnn, id)], { generation: G });
    }
  }
  return out;
}

function recover(net: DirectDbds, pick?: (n: number) => number): RecoveryResult {
  let result: RecoveryResult | undefined;
  const r = new Recovery(
    {
      io: { request: net.request, setTimer: net.setTimer, nowMs: () => 0 }, log: silentLogger(), tunables: defaultTunables(), leader: 0, term: 1,
      generation: NEXT, participants: [0, 1, 2], nodesCount: 3, optional: new Set(), recheck: () => undefined,
    },
    (res) => void (result = res),
  );
  r.start();
  net.run({ onReply: (id, res) => void r.onReply(id, res), onTimer: () => r.onLeaseWaitOver() }, pick);
  return result!;
}

function contents(dbds: Map<number, FakeDbd>): string {
  return [...dbds.values()]
    .map((d) => `${d.pnn} g${d.generation} [${d.vnnmap.join(',')}] frozen=${d.frozen} ` + [...d.dbs.values()].map((db) => `${db.dbId}:${[...db.records.values()].map((r) => `${r.key.toString()}=${r.data.toString()}/${r.rsn}/${r.dmaster}`).sort().join(',')}`).join(' '))
    .join('\n');
}

describe('recovery pacing', () => {
  it(`recovers at most ${dbsInParallelMax} dbs at once and pulls one page at a time from each node`, () => {
    const big = (pnn: number, dbId: number): Rec[] => (pnn === 1 && dbId === 2 ? Array.from({ length: pullRecordsMax + 5 }, (_, i) => rec(`big${i}`, 1, 1, 'x')) : []);
    const dbds = cluster(6, big);
    const net = new DirectDbds(dbds);
    expect(recover(net)).toMatchObject({ ok: true, dbs: 6 });
    expect(net.dbsInFlightMax).toBe(dbsInParallelMax);
    expect(net.pullsPerNodeAndDbMax).toBe(1);
    // db 2 on node 1 took two pages, the second after the first.
    const pages = net.sent.filter((s) => s.to === 1 && s.env.pullDb?.dbId === 2).map((s) => s.env.pullDb!.hasAfter);
    expect(pages).toEqual([false, true]);
    expect(dbds.get(2)!.dbs.get(2)!.records.size).toBe(pullRecordsMax + 5 + 3 + 1);
  });

  it('per node a push is start, batches, commit, one at a time; install only after every push, thaw only after every install', () => {
    const dbds = cluster(2);
    const net = new DirectDbds(dbds);
    recover(net);
    for (const pnn of [0, 1, 2]) {
      const byPush = new Map<number, string[]>();
      for (const s of net.sent.filter((x) => x.to === pnn)) {
        const e = s.env;
        const id = e.pushDbStart?.pushId ?? e.pushDbBatch?.pushId ?? e.pushDbCommit?.pushId;
        if (id !== undefined && id !== null) byPush.set(Number(id), [...(byPush.get(Number(id)) ?? []), String(e.body)]);
      }
      expect([...byPush.values()], `node ${pnn}`).toEqual([['pushDbStart', 'pushDbBatch', 'pushDbCommit'], ['pushDbStart', 'pushDbBatch', 'pushDbCommit']]);
    }
    expect(net.pushesPerNodeMax).toBe(1);
    const order = net.sent.map((s) => String(s.env.body));
    expect(order.indexOf('installGeneration')).toBeGreaterThan(order.lastIndexOf('pushDbCommit'));
    expect(order.indexOf('thaw')).toBeGreaterThan(order.lastIndexOf('installGeneration'));
  });
});

describe('answers in any order', () => {
  it('a recovery whose answers come in a random order ends with what the in-order one gave', () => {
    const inOrder = cluster(5);
    expect(recover(new DirectDbds(inOrder))).toMatchObject({ ok: true });
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const dbds = cluster(5);
      const rnd = new Prng(seed);
      expect(recover(new DirectDbds(dbds), (n) => Math.floor(rnd.next() * n)), `seed ${seed}`).toMatchObject({ ok: true });
      expect(contents(dbds), `seed ${seed}`).toBe(contents(inOrder));
    }
  });

  it('an answer nobody waits for (an unknown id, a pass already over) is ignored', () => {
    const dbds = cluster(1);
    const net = new DirectDbds(dbds);
    let delayMs: number | undefined;
    const loop = new LeaderLoop(deps(net));
    const stray: ReplyResult = { ok: true, env: roundTrip({ ok: {} }) };
    expect(loop.onReply(12345, stray)).toBe(false);
    loop.startPass(1, (ms) => void (delayMs = ms));
    expect(loop.phase).toBe('gather');
    expect(loop.onReply(12345, stray)).toBe(false);
    net.run({ onReply: (id, r) => void loop.onReply(id, r), onTimer: (id) => loop.onTimer(id) });
    expect(delayMs).toBe(defaultTunables().recoverIntervalMs);
    expect(loop.running).toBe(false);
    expect(loop.onReply(1, stray)).toBe(false); // the first GetNodeState's id, long answered
  });
});

function deps(net: DirectDbds, over: Partial<LeaderDeps> = {}): LeaderDeps {
  let now = 0;
  return {
    pnn: 0, pnns: [0, 1, 2], request: net.request, setTimer: net.setTimer, log: silentLogger(), tunables: { ...defaultTunables(), rerecoveryTimeoutMs: 0 },
    metrics: nullMetrics, nowMs: () => (now += 10), leadingTerm: () => 1, selfCheck: () => undefined, deposed: () => undefined, recovered: () => undefined, ...over,
  };
}

describe('errors inside a handler', () => {
  it('a broken invariant is thrown from the handler that met it', () => {
    const net = new DirectDbds(cluster(1));
    const loop = new LeaderLoop(deps(net, { metrics: { ...nullMetrics, nodeStates: () => { throw new InvariantError('test invariant'); } } }));
    loop.startPass(1, () => undefined);
    expect(() => net.run({ onReply: (id, r) => void loop.onReply(id, r), onTimer: (id) => loop.onTimer(id) })).toThrow(InvariantError);
  });

  it('another error ends the monitor pass, logged, the next one after RecoverInterval', () => {
    const dbds = cluster(1);
    const net = new DirectDbds(dbds);
    const loop = new LeaderLoop(deps(net, { metrics: { ...nullMetrics, nodeStates: () => { throw new TypeError('a bug'); } } }));
    let delayMs: number | undefined;
    loop.startPass(1, (ms) => void (delayMs = ms));
    net.run({ onReply: (id, r) => void loop.onReply(id, r), onTimer: (id) => loop.onTimer(id) });
    expect(delayMs).toBe(defaultTunables().recoverIntervalMs);
    expect(loop.running).toBe(false);
    expect(dbds.get(1)!.received).not.toContain('freeze');
  });
});

/** One core, its io recorded by hand: nothing is answered unless the test answers it. */
function lonelyCore(): { core: RecoverdCore; requests: { id: RequestId; to: DbdTarget; body: EnvelopeInit }[]; timers: Map<TimerId, number> } {
  const requests: { id: RequestId; to: DbdTarget; body: EnvelopeInit }[] = [];
  const timers = new Map<TimerId, number>();
  let next = 1;
  const io: RecoverdIo = {
    send: () => undefined,
    request: (to, body) => {
      requests.push({ id: next, to, body });
      return next++;
    },
    votes: new MemVotes(),
    lock: undefined,
    metrics: nullMetrics,
    setTimer: (id, ms) => void timers.set(id, ms),
    cancelTimer: (id) => void timers.delete(id),
    clock: { nowMs: () => 0, nowNs: () => 0 },
    random: { next: () => 0.5 },
  };
  const core = new RecoverdCore({ pnn: 0, nodes: parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.3'), tunables: defaultTunables(), log: silentLogger() }, io);
  return { core, requests, timers };
}

describe('the own dbd', () => {
  it('one GetNodeState in flight at a time; the next heartbeat after the answer polls again', () => {
    const { core, requests, timers } = lonelyCore();
    core.start();
    expect(timers.get('heartbeat')).toBe(0);
    core.onTimer('heartbeat');
    core.onTimer('heartbeat');
    core.onDbdEvent({ link: {} });
    expect(requests.map((r) => [r.to, Object.keys(r.body)[0]])).toEqual([['own', 'getNodeState']]);
    const dbd = new FakeDbd(0);
    core.onReply(requests[0]!.id, { ok: true, env: roundTrip(dbd.handle(roundTrip(requests[0]!.body))) });
    core.onTimer('heartbeat');
    expect(requests.filter((r) => r.body.getNodeState !== undefined)).toHaveLength(2);
  });

  it('a GetNodeState lost (its dbd restarted under it) is asked again before LeaderTimeout, so a leader whose dbd answers again does not step down', () => {
    // Node 0 leads a 1-node cluster; the clock and the requests' timeouts are driven by hand.
    let now = 0;
    const requests: { id: RequestId; body: EnvelopeInit; timeoutMs: number; sentMs: number }[] = [];
    const timers = new Map<TimerId, number>();
    let next = 1;
    const io: RecoverdIo = {
      send: () => undefined,
      request: (_to, body, timeoutMs) => {
        requests.push({ id: next, body, timeoutMs, sentMs: now });
        return next++;
      },
      votes: new MemVotes(), lock: undefined, metrics: nullMetrics,
      setTimer: (id, ms) => void timers.set(id, now + ms),
      cancelTimer: (id) => void timers.delete(id),
      clock: { nowMs: () => now, nowNs: () => now * 1e6 },
      random: { next: () => 0.5 },
    };
    const t = defaultTunables();
    const core = new RecoverdCore({ pnn: 0, nodes: parseNodesFile('10.0.0.1'), tunables: t, log: silentLogger() }, io);
    const dbd = new FakeDbd(0);
    const answered = new Set<RequestId>();
    const lost = new Set<RequestId>();
    /** The dbd is down from deadFrom to deadTo: what is sent to it then is never answered. */
    let deadFrom = Infinity;
    let deadTo = -Infinity;
    /** Runs to `until`: timers fire, requests time out (io's job), own requests are answered unless lost. */
    const runTo = (until: number): void => {
      for (;;) {
        for (const r of requests) {
          if (answered.has(r.id) || lost.has(r.id)) continue;
          if (r.sentMs >= deadFrom && r.sentMs < deadTo) {
            lost.add(r.id); // sent to the dbd that died: never answered
            continue;
          }
          answered.add(r.id);
          core.onReply(r.id, { ok: true, env: roundTrip(dbd.handle(roundTrip(r.body))) });
        }
        const due = [...timers].sort((a, b) => a[1] - b[1])[0];
        const expiry = requests.filter((r) => lost.has(r.id) && !answered.has(r.id)).map((r) => ({ r, at: r.sentMs + r.timeoutMs })).sort((a, b) => a.at - b.at)[0];
        const at = Math.min(due?.[1] ?? Infinity, expiry?.at ?? Infinity);
        if (at > until) break;
        now = at;
        if (expiry !== undefined && expiry.at === at) {
          answered.add(expiry.r.id);
          core.onReply(expiry.r.id, { ok: false, reason: `no reply within ${expiry.r.timeoutMs} ms` });
        } else {
          timers.delete(due![0]);
          core.onTimer(due![0]);
        }
      }
      now = until;
    };
    core.start();
    runTo(3 * t.leaderTimeoutMs);
    expect(core.isLeader).toBe(true);
    const term = core.election.term;
    // The dbd restarts within 300 ms: what was sent to the one that died is never answered; the new one answers.
    deadFrom = now + 1;
    deadTo = deadFrom + 300;
    runTo(now + 3 * t.leaderTimeoutMs);
    expect(lost.size).toBeGreaterThan(0);
    expect({ leader: core.isLeader, term: core.election.term }).toEqual({ leader: true, term });
  });

  it('after stop, answers and timers are ignored and the core asks for nothing more', () => {
    const { core, requests, timers } = lonelyCore();
    core.start();
    core.onTimer('heartbeat');
    core.stop();
    expect([...timers.keys()]).toEqual([]);
    core.onReply(requests[0]!.id, { ok: true, env: roundTrip({ nodeState: new FakeDbd(0).state() }) });
    core.onTimer('heartbeat');
    core.onTimer('election');
    expect(requests).toHaveLength(1);
    expect(timers.size).toBe(0);
  });
});

describe('the contract', () => {
  it('an answer delivered inside its own request is a broken invariant (it must come on a later turn)', () => {
    let core: RecoverdCore | undefined;
    const io: RecoverdIo = {
      send: () => undefined,
      request: () => {
        core!.onReply(1, { ok: false, reason: 'too soon' });
        return 1;
      },
      votes: new MemVotes(), lock: undefined, metrics: nullMetrics, setTimer: () => undefined, cancelTimer: () => undefined,
      clock: { nowMs: () => 0, nowNs: () => 0 }, random: { next: () => 0.5 },
    };
    core = new RecoverdCore({ pnn: 0, nodes: parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.3'), tunables: defaultTunables(), log: silentLogger() }, io);
    core.start();
    expect(() => core!.onTimer('heartbeat')).toThrow(/inside its request/);
  });
});

describe('determinism', () => {
  it('the same seed and the same events give the same trace', () => {
    const traces = [1, 2].map(() => {
      const c = new SimCluster(5, 4711);
      c.start();
      c.run(3_000);
      c.partition([0, 1], [2, 3, 4]);
      c.run(4_000);
      c.restart(3);
      c.heal();
      c.run(6_000);
      return c.trace;
    });
    expect(traces[0]!.length).toBeGreaterThan(500) // a long story (about 1,000 events at 13 s);
    expect(traces[1]).toEqual(traces[0]);
  });
});
