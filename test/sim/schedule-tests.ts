// The test body of the CI list's schedule files (schedules-3/4.test.ts): one part of the list in
// chunks of 50, every invariant after every step, convergence after the last fault. A failure
// shows its seed, the command that replays it and the shrunk trace.
import { expect, test } from 'vitest';
import { ciSeeds, runSeeds } from './seed-list.js';

export function scheduleTests(part: number): void {
  const seeds = ciSeeds(part);
  const chunks = Array.from({ length: seeds.length / 50 }, (_, i) => seeds.slice(i * 50, i * 50 + 50));
  test.each(chunks.map((c) => [c[0]!, c.at(-1)!, c] as const))('random schedules from seed %i to %i keep every invariant and converge', (_from, _to, chunk) => {
    const r = runSeeds(chunk);
    expect(r.failure).toBeUndefined();
    expect(r.schedules).toBe(chunk.length);
  });
}
