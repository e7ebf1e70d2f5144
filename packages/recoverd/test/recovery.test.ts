// Recovery orchestration (DESIGN §5.3) against three fake dbds holding records. The recovery and
// the leader's loop are state machines; DirectDbds answers their controls synchronously.
import { describe, expect, it } from 'vitest';
import { defaultTunables, silentLogger } from '@ctdbng/common';
import { nullMetrics } from '../src/core/io.js';
import { LeaderLoop, type LeaderDeps } from '../src/core/leader.js';
import { Recovery, type RecoveryInput, type RecoveryResult } from '../src/core/recovery.js';
import { DirectDbds, FakeDbd, rec } from './fake-dbd.js';

const G = 111;
const DB = 0xabc;

function cluster(): Map<number, FakeDbd> {
  const dbds = new Map([0, 1, 2].map((p) => [p, new FakeDbd(p)]));
  for (const d of dbds.values()) {
    d.generation = G;
    d.vnnmap = [0, 1, 2];
  }
  dbds.get(0)!.addDb(DB, 'x.db', [rec('a', 3, 0, 'a@0'), rec('b', 1, 1, 'b-stale')], { generation: G });
  dbds.get(1)!.addDb(DB, 'x.db', [rec('b', 2, 1, 'b@1'), rec('c', 5, 1, 'c@1')], { generation: G });
  dbds.get(2)!.addDb(DB, 'x.db', [rec('c', 4, 1, 'c-stale'), rec('d', 7, 2, '')], { generation: G });
  return dbds;
}

const NEXT = 2 ** 32 + 1; // term 1, seq 1

type Over = Partial<Omit<RecoveryInput, 'io'>> & { net?: DirectDbds };

/** Runs one recovery to its end against the fake dbds (lease waits recorded in net.waits, then over at once). */
function runRecovery(dbds: Map<number, FakeDbd>, over: Over = {}): RecoveryResult {
  const { net = new DirectDbds(dbds), ...rest } = over;
  let result: RecoveryResult | undefined;
  const r = new Recovery(
    {
      io: { request: net.request, setTimer: net.setTimer, nowMs: () => 0 }, log: silentLogger(), tunables: defaultTunables(), leader: 0, term: 1,
      generation: NEXT, participants: [0, 1, 2], nodesCount: 3, optional: new Set(), recheck: () => undefined, ...rest,
    },
    (res) => {
      expect(result, 'a recovery ends once').toBeUndefined();
      result = res;
    },
  );
  r.start();
  net.run({ onReply: (id, res) => expect(r.onReply(id, res), `reply ${id} is the recovery's`).toBe(true), onTimer: () => r.onLeaseWaitOver() });
  expect(result, 'the recovery ended').toBeDefined();
  return result!;
}

describe('recovery', () => {
  it('after a recovery every node holds the merged records with the leader as dmaster; rsn unchanged except the leader +1', () => {
    const dbds = cluster();
    const res = runRecovery(dbds);
    expect(res.ok).toBe(true);
    for (const [pnn, d] of dbds) {
      const bump = pnn === 0 ? 1 : 0;
      expect(d.get(DB, 'a')).toMatchObject({ rsn: 3 + bump, dmaster: 0, data: Buffer.from('a@0') });
      expect(d.get(DB, 'b')).toMatchObject({ rsn: 2 + bump, dmaster: 0, data: Buffer.from('b@1') });
      expect(d.get(DB, 'c')).toMatchObject({ rsn: 5 + bump, dmaster: 0, data: Buffer.from('c@1') });
      expect(d.get(DB, 'd')).toMatchObject({ rsn: 7 + bump, dmaster: 0, data: Buffer.alloc(0) }); // the tombstone won: pushed as one
      expect(d.get(DB, 'a')!.flags & 1).toBe(1);
      expect(d.generation).toBe(res.ok ? res.generation : -1);
      expect(d.vnnmap).toEqual([0, 1, 2]);
      expect(d.frozen).toBe(false);
    }
  });

  it('invalid copies and copies older than G_max are left out of the merge', () => {
    const dbds = cluster();
    dbds.get(1)!.dbs.get(DB)!.valid = false; // stopped: invalidated (§5.4)
    dbds.get(2)!.dbs.get(DB)!.generation = 42; // took no part in the current generation
    dbds.get(2)!.dbs.get(DB)!.records.set('e', rec('e', 9, 2, 'zombie'));
    const res = runRecovery(dbds);
    expect(res.ok).toBe(true);
    const keys = [...dbds.get(1)!.dbs.get(DB)!.records.values()].map((r) => [r.key.toString(), r.data.toString()]);
    expect(keys).toEqual([['a', 'a@0'], ['b', 'b-stale']]);
  });

  it('the steps go freeze → pull → push → install → thaw, install only after every push', () => {
    const dbds = cluster();
    runRecovery(dbds);
    const seen = dbds.get(2)!.received.filter((n, i, a) => a[i - 1] !== n);
    expect(seen).toEqual(['freeze', 'getDbMap', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw']);
    expect(dbds.get(2)!.generation).toBe(NEXT);
  });

  it('a re-check that fails before recovering aborts without touching any node', () => {
    const dbds = cluster();
    const res = runRecovery(dbds, { recheck: () => 'no longer leader in this term' });
    expect(res).toMatchObject({ ok: false, aborted: true, blame: [] });
    for (const d of dbds.values()) expect(d.received).toEqual([]);
  });

  it('a failed step blames the node; no node is thawed without every install', () => {
    const dbds = cluster();
    dbds.get(2)!.failOn.add('installGeneration');
    const res = runRecovery(dbds);
    expect(res).toMatchObject({ ok: false, blame: [2], staleTerm: false });
    for (const d of dbds.values()) expect(d.received).not.toContain('thaw');
  });

  it('a node refusing the term makes the recovery stale: nobody is blamed', () => {
    const dbds = cluster();
    dbds.get(1)!.highestTerm = 5;
    const res = runRecovery(dbds);
    expect(res).toMatchObject({ ok: false, staleTerm: true, blame: [] });
  });

  it('a node of the nodes file that was not frozen makes the leader wait SharedAccessLease + LeaseDriftMargin, as the dbds read them, before the thaw', () => {
    const dbds = cluster();
    const net = new DirectDbds(dbds);
    dbds.get(1)!.sharedAccessLeaseMs = 3000; // setvar SharedAccessLease 3000 on node 1's dbd
    const res = runRecovery(dbds, { participants: [0, 1], net });
    expect(res.ok).toBe(true);
    expect(net.waits).toEqual([3000 + 100]);
    // Everyone frozen: no wait.
    const all = new DirectDbds(dbds);
    runRecovery(dbds, { generation: NEXT + 1, net: all });
    expect(all.waits).toEqual([]);
  });

  it('participants that are not a majority of the nodes file recover nothing: no quorum', () => {
    const dbds = cluster();
    const res = runRecovery(dbds, { participants: [0] });
    expect(res).toMatchObject({ ok: false, aborted: true, noQuorum: true });
    expect(dbds.get(0)!.received).not.toContain('installGeneration');
    // An amnesiac node counts toward no quorum.
    dbds.get(1)!.amnesiac = true;
    const amnesiac = runRecovery(dbds, { participants: [0, 1], generation: NEXT + 1 });
    expect(amnesiac).toMatchObject({ ok: false, noQuorum: true });
  });

  it('a banned witness that cannot even be frozen or installed is left out; the recovery completes without it', () => {
    for (const step of ['freeze', 'installGeneration']) {
      const dbds = cluster();
      dbds.get(2)!.banned = true;
      dbds.get(2)!.failOn.add(step);
      const res = runRecovery(dbds, { optional: new Set([2]) });
      expect(res, step).toMatchObject({ ok: true, vnnmap: [0, 1], participants: [0, 1] });
      expect(dbds.get(0)!.frozen).toBe(false);
      // A member that fails the same step fails the recovery.
      const again = cluster();
      again.get(1)!.failOn.add(step);
      expect(runRecovery(again), step).toMatchObject({ ok: false, blame: [1] });
    }
  });

  it('a stopped participant takes part as a witness: frozen, installed, given no records, outside the vnnmap', () => {
    const dbds = cluster();
    dbds.get(2)!.stopped = true;
    const res = runRecovery(dbds);
    expect(res).toMatchObject({ ok: true, vnnmap: [0, 1] });
    expect(dbds.get(2)!.generation).toBe(NEXT);
    expect(dbds.get(2)!.vnnmap).toEqual([0, 1]);
    expect(dbds.get(2)!.dbs.get(DB)!.records.size).toBe(0);
    expect(dbds.get(2)!.dbs.get(DB)!.valid).toBe(false);
  });
});

/** A LeaderLoop over fake dbds; `pass(term)` runs one monitor pass to its end and returns the delay to the next. */
class DrivenLoop {
  readonly loop: LeaderLoop;
  constructor(readonly net: DirectDbds, over: Partial<LeaderDeps> = {}) {
    let now = 0;
    this.loop = new LeaderLoop({
      pnn: 0, pnns: [0, 1, 2], request: net.request, setTimer: net.setTimer, log: silentLogger(), tunables: { ...defaultTunables(), rerecoveryTimeoutMs: 0 },
      metrics: nullMetrics, nowMs: () => (now += 10),
      leadingTerm: () => 1, selfCheck: () => undefined, deposed: () => undefined, recovered: () => undefined, ...over,
    });
  }

  pass(term: number): number {
    let delayMs: number | undefined;
    this.loop.startPass(term, (ms) => void (delayMs = ms));
    this.net.run({ onReply: (id, r) => void this.loop.onReply(id, r), onTimer: (id) => this.loop.onTimer(id) });
    expect(this.loop.running).toBe(false);
    return delayMs!;
  }
}

describe('leader loop', () => {
  function loop(dbds: Map<number, FakeDbd>, o: { leading?: () => number | undefined; bans?: number[] } = {}): DrivenLoop {
    return new DrivenLoop(new DirectDbds(dbds), { metrics: { ...nullMetrics, ban: (p) => o.bans?.push(p) }, leadingTerm: o.leading ?? (() => 1) });
  }

  it('a new leader recovers once, then not again while nothing changes', () => {
    const dbds = cluster();
    const l = loop(dbds);
    l.pass(1);
    const g = dbds.get(0)!.generation;
    expect(g).not.toBe(G);
    l.pass(1);
    expect(dbds.get(0)!.generation).toBe(g);
  });

  it('a recovery request, a changed vnnmap or a missing db triggers a recovery', () => {
    const dbds = cluster();
    const l = loop(dbds);
    l.pass(1);
    for (const poke of [
      () => void (dbds.get(1)!.recoveryRequests += 1),
      () => void (dbds.get(2)!.vnnmap = [0, 2]),
      () => void dbds.get(1)!.dbs.delete(DB),
    ]) {
      const before = dbds.get(0)!.generation;
      poke();
      l.pass(1);
      expect(dbds.get(0)!.generation, String(poke)).not.toBe(before);
    }
  });

  it('a node failing RecoveryBanCount recoveries in a row is banned and left out of the next generation', () => {
    const dbds = cluster();
    dbds.get(2)!.failOn.add('freeze');
    const bans: number[] = [];
    const l = loop(dbds, { bans });
    for (let i = 0; i < 3; i++) l.pass(1);
    expect(bans).toEqual([2]);
    expect(dbds.get(2)!.banned).toBe(true);
    l.pass(1);
    expect(dbds.get(0)!.vnnmap).toEqual([0, 1]);
    expect(dbds.get(0)!.frozen).toBe(false);
  });

  it('a leader that lost its term between the decision and the recovery does not recover', () => {
    const dbds = cluster();
    let calls = 0;
    const l = loop(dbds, { leading: () => (calls++ === 0 ? 1 : undefined) });
    l.pass(1);
    for (const d of dbds.values()) expect(d.received).not.toContain('freeze');
  });

  it('an own node that is not eligible does not recover', () => {
    const dbds = cluster();
    dbds.get(0)!.stopped = true;
    loop(dbds).pass(1);
    for (const d of dbds.values()) expect(d.received).not.toContain('freeze');
  });
});

describe('recovery correctness: failed recoveries, stale leaders, minorities', () => {
  function loopFor(dbds: Map<number, FakeDbd>, pnn: number, down: Set<number> = new Set(), term = 1): DrivenLoop {
    return new DrivenLoop(new DirectDbds(dbds, down), { pnn, leadingTerm: () => term });
  }

  /** The live records of a node (tombstones read as not found). */
  function values(d: FakeDbd): Record<string, string> {
    return Object.fromEntries([...(d.dbs.get(DB)?.records.values() ?? [])].filter((r) => r.data.length > 0).map((r) => [r.key.toString(), r.data.toString()]));
  }

  it('an install that fails on one node, then recoveries that succeed: every record survives on every node', () => {
    const dbds = cluster();
    const l = loopFor(dbds, 0);
    l.pass(1);
    const before = values(dbds.get(0)!);
    expect(Object.keys(before).sort()).toEqual(['a', 'b', 'c']);
    dbds.get(2)!.recoveryRequests += 1;
    dbds.get(2)!.failOn.add('installGeneration');
    l.pass(1);
    dbds.get(2)!.failOn.delete('installGeneration');
    l.pass(1);
    l.pass(1);
    for (const d of dbds.values()) expect(values(d), `node ${d.pnn}`).toEqual(before);
  });

  it('a recovery that pushed to some nodes and failed on another, then one that completes: a deleted record does not come back (sim seed 1000684)', () => {
    const dbds = cluster();
    // Key z was deleted on node 2 (its dmaster; node 0 got the tombstone through vacuuming's
    // StoreTombstone); node 1 still holds an older copy with data.
    dbds.get(0)!.dbs.get(DB)!.records.set('z', rec('z', 3, 2, ''));
    dbds.get(1)!.dbs.get(DB)!.records.set('z', rec('z', 2, 0, 'z-old'));
    dbds.get(2)!.dbs.get(DB)!.records.set('z', rec('z', 3, 2, ''));
    // Node 2 is out (banned: a witness, its copy invalid); the first recovery's push fails on
    // node 1 after node 0's has committed: nothing is installed.
    dbds.get(2)!.dbs.get(DB)!.valid = false;
    dbds.get(1)!.failOn.add('pushDbStart');
    expect(runRecovery(dbds).ok).toBe(false);
    dbds.get(1)!.failOn.delete('pushDbStart');
    expect(runRecovery(dbds, { generation: NEXT + 1 }).ok).toBe(true);
    for (const d of dbds.values()) expect(values(d).z, `node ${d.pnn}`).toBeUndefined();
  });

  it('a node left out of a generation, leader after the old leader dies, brings back no deleted record and loses no newer write', () => {
    const dbds = cluster();
    const down = new Set([2]);
    loopFor(dbds, 0, down).pass(1); // node 2 cut off: nodes 0 and 1 move on without it
    for (const pnn of [0, 1]) {
      const db = dbds.get(pnn)!.dbs.get(DB)!;
      db.records.delete('a'); // deleted and vacuumed while node 2 was away
      db.records.set('c', rec('c', 20, 1, 'c-new'));
    }
    down.clear();
    down.add(0); // the old leader dies; node 2 is back and leads
    loopFor(dbds, 2, down, 2).pass(2); // elected in a later term
    for (const pnn of [1, 2]) {
      const v = values(dbds.get(pnn)!);
      expect(v['a'], `node ${pnn}`).toBeUndefined();
      expect(v['c'], `node ${pnn}`).toBe('c-new');
    }
  });

  it('a leader that reaches only a minority of the nodes file freezes nobody (no split brain through a minority vnnmap)', () => {
    const dbds = cluster();
    const l = loopFor(dbds, 0, new Set([1, 2]));
    l.pass(1);
    expect(dbds.get(0)!.received).not.toContain('freeze');
    expect(dbds.get(0)!.generation).toBe(G);
  });

  it('a node whose dbd is not linked with the leader\'s both ways is left out, and the leader waits out its lease', () => {
    const dbds = cluster();
    dbds.get(2)!.linksUp = [1]; // node 2 does not hear node 0 (its inbound node messages are cut)
    const l = new DrivenLoop(new DirectDbds(dbds));
    l.pass(1);
    expect(dbds.get(0)!.vnnmap).toEqual([0, 1]);
    expect(dbds.get(2)!.received).not.toContain('freeze');
    expect(l.net.waits).toHaveLength(1);
  });
});
