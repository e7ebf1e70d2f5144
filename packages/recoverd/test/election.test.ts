// Leader election (DESIGN §5.1) on an in-memory network of recoverd cores with fake dbds.
import { describe, expect, it } from 'vitest';
import { silentLogger, defaultTunables } from '@ctdbng/common';
import { Election, startDelayMsMax } from '../src/core/election.js';
import type { PeerMessage } from '../src/core/io.js';
import { MemVotes, SimCluster } from './sim-net.js';

describe('election', () => {
  for (const size of [3, 5]) {
    it(`${size} nodes elect exactly one leader that every node follows`, () => {
      const c = new SimCluster(size, 1234 + size);
      c.start();
      c.run(5_000);
      const leaders = c.leaders();
      expect(leaders).toHaveLength(1);
      for (const n of c.nodes) expect(n.core.election.leader).toBe(leaders[0]);
      // The leader recovered: every dbd has the same nonzero generation and all nodes in the vnnmap.
      const gens = new Set(c.nodes.map((n) => n.dbd.generation));
      expect(gens.size).toBe(1);
      expect([...gens][0]).not.toBe(0);
      expect(c.nodes[0]!.dbd.vnnmap).toEqual(c.nodes.map((n) => n.pnn));
      expect(c.nodes.every((n) => n.dbd.leader === leaders[0])).toBe(true);
    });
  }

  it('when the leader dies the others elect a new one in a higher term', () => {
    const c = new SimCluster(5, 77);
    c.start();
    c.run(5_000);
    const [first] = c.leaders();
    const term = c.nodes[first!]!.core.election.term;
    c.kill(first!, { node: true });
    c.run(10_000);
    const [second] = c.leaders();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(c.nodes[second!]!.core.election.term).toBeGreaterThan(term);
    expect(c.nodes[second!]!.dbd.vnnmap).not.toContain(first);
  });

  it('a partitioned minority never elects a leader; the majority side does', () => {
    const c = new SimCluster(5, 99);
    c.partition([0, 1], [2, 3, 4]);
    c.start();
    c.run(15_000);
    const everLed = new Set(c.leadersByTerm.values());
    expect(everLed.has(0) || everLed.has(1)).toBe(false);
    expect(c.leaders()).toHaveLength(1);
    expect([2, 3, 4]).toContain(c.leaders()[0]);
    // The minority turned inactive (§5.1): its dbds were told so.
    expect(c.nodes[0]!.dbd.inactive).toBe(true);
    expect(c.nodes[2]!.dbd.inactive).toBe(false);
    c.heal();
    c.run(10_000);
    expect(c.nodes[0]!.dbd.inactive).toBe(false);
    expect(c.nodes[0]!.dbd.vnnmap).toEqual([0, 1, 2, 3, 4]);
  });

  it('a leader cut off from the majority steps down and the majority elects another', () => {
    const c = new SimCluster(3, 5);
    c.start();
    c.run(5_000);
    const [old] = c.leaders();
    const rest = [0, 1, 2].filter((p) => p !== old);
    c.partition([old!], rest);
    c.run(10_000);
    expect(c.nodes[old!]!.core.isLeader).toBe(false);
    expect(c.leaders()).toHaveLength(1);
    expect(rest).toContain(c.leaders()[0]);
  });

  it('a restarted node keeps its term and vote, and the cluster keeps one leader per term', () => {
    const c = new SimCluster(3, 4242);
    c.start();
    c.run(5_000);
    for (const p of [0, 1, 2]) {
      const before = c.nodes[p]!.votes.v.term;
      c.restart(p);
      expect(c.nodes[p]!.core.election.term).toBe(before); // loaded from the state file
      c.run(5_000);
      expect(c.nodes[p]!.core.election.term).toBeGreaterThanOrEqual(before);
    }
    expect(c.leaders()).toHaveLength(1);
  });

  it('a stopped or banned node does not stand for election', () => {
    const c = new SimCluster(3, 8);
    for (const p of [0, 1]) c.nodes[p]!.dbd.stopped = true;
    c.nodes[2]!.dbd.banned = true;
    c.start();
    c.run(5_000);
    expect(c.leaders()).toEqual([]);
    expect(c.leadersByTerm.size).toBe(0);
    c.nodes[1]!.dbd.stopped = false;
    c.run(5_000);
    expect(c.leaders()).toEqual([1]);
  });

  it('a node configured witness never stands, but its vote makes a majority with one other node', () => {
    const c = new SimCluster(3, 12, {}, [2]);
    c.start();
    c.run(5_000);
    const [leader] = c.leaders();
    expect(leader === 0 || leader === 1).toBe(true);
    c.kill(leader!, { node: true });
    c.run(10_000);
    expect(c.leaders()).toEqual([leader === 0 ? 1 : 0]);
    expect([...c.leadersByTerm.values()]).not.toContain(2);
  });

  it('a leader whose node is stopped steps down and another node leads', () => {
    const c = new SimCluster(3, 13);
    c.start();
    c.run(5_000);
    const [leader] = c.leaders();
    c.nodes[leader!]!.dbd.stopped = true;
    c.run(8_000);
    const now = c.leaders();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(leader);
  });

  it('followers whose dbds cannot hear the leader\'s dbd stop following it and elect another leader', () => {
    const c = new SimCluster(3, 14);
    c.start();
    c.run(5_000);
    const [leader] = c.leaders();
    const others = [0, 1, 2].filter((p) => p !== leader);
    // A one-way cut of the leader's node links: nobody's dbd hears it; its recoverd is still heard.
    for (const p of others) c.nodes[p]!.dbd.linksUp = [0, 1, 2].filter((x) => x !== p && x !== leader);
    c.run(12_000);
    const now = c.leaders();
    expect(now).toHaveLength(1);
    expect(others).toContain(now[0]);
  });

  it('a follower that stopped following a leader whose dbd it could not hear follows it again once its dbd hears it', () => {
    const c = new SimCluster(5, 21);
    c.start();
    c.run(5_000);
    const [leader] = c.leaders();
    const cut = [0, 1, 2, 3, 4].filter((p) => p !== leader).slice(0, 2);
    // Two followers' dbds stop hearing the leader's; the other followers still follow it, so the
    // two cannot win an election (nobody votes while hearing a live leader).
    for (const p of cut) c.nodes[p]!.dbd.linksUp = [0, 1, 2, 3, 4].filter((x) => x !== p && x !== leader);
    c.run(6_000);
    for (const p of cut) expect(c.nodes[p]!.core.election.leader).toBeUndefined();
    expect(c.leaders()).toEqual([leader]);
    for (const p of cut) c.nodes[p]!.dbd.linksUp = undefined;
    c.run(6_000);
    for (const n of c.nodes) expect(n.core.election.leader).toBe(leader);
  });
});

describe('election timing', () => {
  it('a follower beats every LeaderTimeout / 4 (not every LeaderBroadcastInterval), and a stable cluster keeps its leader and term', () => {
    const c = new SimCluster(5, 8765);
    c.start();
    c.run(5000);
    const [leader] = c.leaders();
    expect(leader).toBeDefined();
    const term = c.nodes[leader!]!.core.election.term;
    const from = c.trace.length;
    c.run(10_000);
    const follower = [0, 1, 2, 3, 4].find((p) => p !== leader)!;
    const beats = c.trace.slice(from).filter((l) => l.includes('message recoverdHeartbeat') && l.endsWith(`from ${follower}`)).length;
    // 10 s at 500 ms to 4 peers: 80 (250 ms would be 160).
    expect(beats).toBeGreaterThanOrEqual(76);
    expect(beats).toBeLessThanOrEqual(84);
    expect(c.leaders()).toEqual([leader]);
    for (const n of c.nodes) expect(n.core.election.term).toBe(term);
    for (const n of c.nodes) expect(n.core.membership.visible(c.time.now)).toHaveLength(5);
  });

  it('a new leader broadcasts again one LeaderBroadcastInterval after winning, not at the slower beat of a follower', () => {
    const c = new SimCluster(3, 2468);
    c.start();
    c.run(5000);
    const [leader] = c.leaders();
    const won = c.trace.findIndex((l) => l.includes('message leaderBroadcast') && l.endsWith(`from ${leader}`));
    const times = c.trace.slice(won).filter((l) => l.includes('message leaderBroadcast') && l.endsWith(`from ${leader}`)).map((l) => Number(l.split(' ')[0]));
    const distinct = [...new Set(times.map((t) => Math.floor(t / 10)))];
    expect(distinct.length).toBeGreaterThan(2);
    // Consecutive rounds of broadcasts (each round reaches the 2 peers within a few ms).
    const rounds = times.filter((t, i) => i === 0 || t - times[i - 1]! > 20);
    for (let i = 1; i < rounds.length; i++) expect(rounds[i]! - rounds[i - 1]!).toBeLessThanOrEqual(c.tunables.leaderBroadcastIntervalMs + 10);
  });

  it("the leader's broadcast is its heartbeat: one message per peer each LeaderBroadcastInterval on the one heartbeat timer", () => {
    const c = new SimCluster(3, 4321);
    c.start();
    c.run(5000);
    const [leader] = c.leaders();
    expect(leader).toBeDefined();
    expect([...c.nodes[leader!]!.timers.keys()]).not.toContain('broadcast');
    const from = c.trace.length;
    const startMs = c.time.now;
    c.run(2000);
    const sent = c.trace.slice(from).filter((l) => l.endsWith(`from ${leader}`)).map((l) => l.split(' ')[3]);
    const interval = c.tunables.leaderBroadcastIntervalMs;
    const rounds = Math.floor((c.time.now - startMs) / interval);
    expect(sent.filter((b) => b === 'recoverdHeartbeat')).toEqual([]);
    expect(sent.filter((b) => b === 'leaderBroadcast').length).toBeGreaterThanOrEqual(2 * (rounds - 1));
    expect(sent.length).toBeLessThanOrEqual(2 * (rounds + 1));
    // Followers still heartbeat, and every node sees a majority.
    const follower = [0, 1, 2].find((p) => p !== leader)!;
    expect(c.trace.slice(from).some((l) => l.includes('message recoverdHeartbeat') && l.endsWith(`from ${follower}`))).toBe(true);
    expect(c.leaders()).toEqual([leader]);
  });


  it('a node that could not stand when its election timer fired tries again within the start delay, not a LeaderTimeout later', () => {
    const timers: { id: string; ms: number }[] = [];
    let canStand = false;
    const e = new Election({
      pnn: 0, pnns: [0, 1, 2], tunables: defaultTunables(), votes: new MemVotes(), lock: undefined, log: silentLogger(),
      setTimer: (id, ms) => void timers.push({ id, ms }), cancelTimer: () => undefined, nowMs: () => 1000, send: () => undefined,
      random: () => 0.99, canStand: () => canStand, onChange: () => undefined, onElection: () => undefined,
    });
    e.start();
    timers.length = 0;
    e.onTimer('election'); // own dbd not up yet, say: refused
    expect(e.role).toBe('follower');
    expect(timers).toHaveLength(1);
    expect(timers[0]!.id).toBe('election');
    expect(timers[0]!.ms).toBeLessThan(startDelayMsMax);
    canStand = true;
    e.onTimer('election');
    expect(e.role).toBe('candidate');
  });
});

describe('votes', () => {
  function election(votes: MemVotes, sent: { to: number; msg: PeerMessage }[], liveLeader = false): Election {
    const e = new Election({
      pnn: 0, pnns: [0, 1, 2], tunables: defaultTunables(), votes, lock: undefined, log: silentLogger(),
      setTimer: () => undefined, cancelTimer: () => undefined, nowMs: () => 1000, send: (to, msg) => sent.push({ to, msg }),
      random: () => 0.5, canStand: () => true, onChange: () => undefined, onElection: () => undefined,
    });
    e.start();
    if (liveLeader) e.onLeaderBroadcast({ term: 1, leader: 2 });
    return e;
  }

  it('a restarted recoverd never votes twice in a term: the vote is saved before the reply', () => {
    const votes = new MemVotes();
    const sent: { to: number; msg: PeerMessage }[] = [];
    const first = election(votes, sent);
    let savedBeforeReply = false;
    const save = votes.save.bind(votes);
    votes.save = (v) => {
      save(v);
      savedBeforeReply = sent.length === 0;
    };
    first.onVoteRequest({ term: 5, candidate: 1 });
    expect(savedBeforeReply).toBe(true);
    expect(sent).toEqual([{ to: 1, msg: { voteReply: { term: 5, granted: true, voter: 0 } } }]);
    sent.length = 0;
    const restarted = election(votes, sent);
    restarted.onVoteRequest({ term: 5, candidate: 2 });
    expect(sent).toEqual([{ to: 2, msg: { voteReply: { term: 5, granted: false, voter: 0 } } }]);
    restarted.onVoteRequest({ term: 5, candidate: 1 });
    expect(sent[1]).toEqual({ to: 1, msg: { voteReply: { term: 5, granted: true, voter: 0 } } });
  });

  it('a node hearing a live leader refuses to vote and keeps its term', () => {
    const sent: { to: number; msg: PeerMessage }[] = [];
    const e = election(new MemVotes(), sent, true);
    e.onVoteRequest({ term: 9, candidate: 1 });
    expect(sent).toEqual([{ to: 1, msg: { voteReply: { term: 1, granted: false, voter: 0 } } }]);
    expect(e.term).toBe(1);
  });

  it('a higher term in a reply makes a leader step down', () => {
    const sent: { to: number; msg: PeerMessage }[] = [];
    const e = election(new MemVotes(), sent);
    e.onTimer('election');
    e.onVoteReply({ term: 1, granted: true, voter: 1 });
    expect(e.isLeader).toBe(true);
    e.onVoteReply({ term: 3, granted: false, voter: 2 });
    expect(e.isLeader).toBe(false);
    expect(e.term).toBe(3);
  });
});
