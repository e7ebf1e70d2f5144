// 500 random schedules of the CI seed list (part 4 of 4; parts 1 and 2 run in
// determinism.test.ts; test/sim/seed-list.ts): every
// invariant after every step, convergence after the last fault. A failure shows its seed, the
// command that replays it and the shrunk trace.
import { expect, test } from 'vitest';
import { ciSeeds, runSeeds } from './seed-list.js';

const seeds = ciSeeds(3);
const chunks = Array.from({ length: seeds.length / 50 }, (_, i) => seeds.slice(i * 50, i * 50 + 50));

test.each(chunks.map((c) => [c[0]!, c.at(-1)!, c] as const))('random schedules from seed %i to %i keep every invariant and converge', (_from, _to, chunk) => {
  const r = runSeeds(chunk);
  expect(r.failure).toBeUndefined();
  expect(r.schedules).toBe(chunk.length);
});
