// Election under random partitions, kills and restarts (seeded): never two leaders in one term
// (checked after every event), and after healing exactly one leader within 15 virtual seconds.
import { describe, expect, it } from 'vitest';
import { Prng, SimCluster } from './sim-net.js';

const seeds = Array.from({ length: Number(process.env["RECOVERD_SEEDS"] ?? 12) }, (_, i) => 1000 + i);

describe('election under faults', () => {
  it.each(seeds)('seed %i: one leader per term; one leader after healing', (seed) => {
    const rnd = new Prng(seed);
    const size = rnd.next() < 0.5 ? 3 : 5;
    const c = new SimCluster(size, seed);
    c.start();
    for (let phase = 0; phase < 6; phase++) {
      const r = rnd.next();
      if (r < 0.4) {
        const cut = new Set(Array.from({ length: size }, (_, p) => p).filter(() => rnd.next() < 0.4));
        c.partition([...cut], Array.from({ length: size }, (_, p) => p).filter((p) => !cut.has(p)));
      } else if (r < 0.7) {
        c.restart(Math.floor(rnd.next() * size));
      } else {
        c.heal();
      }
      c.run(500 + Math.floor(rnd.next() * 4000));
    }
    c.heal();
    c.run(15_000);
    expect(c.leaders(), `seed ${seed}`).toHaveLength(1);
    const leader = c.leaders()[0]!;
    for (const n of c.nodes) expect(n.core.election.leader, `seed ${seed} node ${n.pnn}`).toBe(leader);
  });
});
