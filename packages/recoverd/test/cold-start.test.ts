// A new leader at a cold start (DESIGN §5.2–5.3): when no node that answered has ever installed
// a generation there is nothing to serve yet, so the first recovery waits (up to LeaderTimeout
// from the start of the leadership) for every node of the nodes file. A recovery of a majority
// would wait out the lease of the nodes it did not freeze, and a second recovery would follow as
// soon as they answer. Once a generation exists anywhere, a missing node is not waited for.
import { describe, expect, it } from 'vitest';
import { defaultTunables, silentLogger } from '@ctdbng/common';
import { nullMetrics } from '../src/core/io.js';
import { coldStartRetryMs, LeaderLoop, type LeaderDeps } from '../src/core/leader.js';
import { DirectDbds, FakeDbd } from './fake-dbd.js';

function setup(generation: number): { dbds: Map<number, FakeDbd>; net: DirectDbds; loop: LeaderLoop; clock: { now: number } } {
  const dbds = new Map([0, 1, 2].map((p) => [p, new FakeDbd(p)]));
  for (const d of dbds.values()) {
    d.generation = generation;
    d.vnnmap = generation === 0 ? [] : [0, 1, 2];
  }
  const net = new DirectDbds(dbds, new Set([2]));
  const clock = { now: 0 };
  const deps: LeaderDeps = {
    pnn: 0, pnns: [0, 1, 2], request: net.request, setTimer: net.setTimer, log: silentLogger(), tunables: { ...defaultTunables(), rerecoveryTimeoutMs: 0 },
    metrics: nullMetrics, nowMs: () => clock.now, leadingTerm: () => 1, selfCheck: () => undefined, deposed: () => undefined, recovered: () => undefined,
  };
  const loop = new LeaderLoop(deps);
  loop.reset();
  return { dbds, net, loop, clock };
}

function pass(s: ReturnType<typeof setup>): number {
  let delayMs: number | undefined;
  s.loop.startPass(1, (ms) => void (delayMs = ms));
  s.net.run({ onReply: (id, r) => void s.loop.onReply(id, r), onTimer: (id) => s.loop.onTimer(id) });
  return delayMs!;
}

describe('cold start', () => {
  it('a new leader whose nodes never installed a generation waits for a node that does not answer yet, then recovers every node at once', () => {
    const s = setup(0);
    s.clock.now = 100;
    expect(pass(s)).toBe(coldStartRetryMs);
    expect(s.dbds.get(1)!.received).not.toContain('freeze');
    s.net.down.clear(); // node 2's dbd answers now
    s.clock.now = 300;
    pass(s);
    for (const d of s.dbds.values()) expect(d.generation, `node ${d.pnn}`).not.toBe(0);
    expect(s.dbds.get(0)!.vnnmap).toEqual([0, 1, 2]);
    expect(s.net.waits).toEqual([]); // every node frozen: no lease to wait out
  });

  it('past LeaderTimeout since it became leader it recovers the majority that answers', () => {
    const s = setup(0);
    s.clock.now = defaultTunables().leaderTimeoutMs;
    pass(s);
    expect(s.dbds.get(0)!.vnnmap).toEqual([0, 1]);
    expect(s.dbds.get(1)!.generation).not.toBe(0);
  });

  it('once a generation was installed a new leader does not wait for a missing node', () => {
    const s = setup(7); // installed by a leader of an earlier term
    s.clock.now = 100;
    pass(s);
    expect(s.dbds.get(0)!.vnnmap).toEqual([0, 1]);
    expect(s.net.waits).toHaveLength(1); // node 2 may still hold a lease: waited out
  });
});
