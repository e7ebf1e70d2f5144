// Seeds that random runs outside the CI list found failing, kept as regression tests: each ran
// into a hole that the fix named in its test closes (replay one: npm run sim -- --seed S).
import { expect, test } from 'vitest';
import { runSeeds } from './seed-list.js';

test.each([
  // Found by `npm run sim -- --minutes 60 --base 4000000 --jobs 2` (5 nodes): node 0, lmaster and
  // dmaster of k5, deleted it at rsn 5; vacuuming placed the tombstone's copies at rsn 5 on nodes
  // 1, 3, 4; a client wrote k5 again on node 0, still at rsn 5. A recovery pushed the merge (the
  // write) to nodes 0, 1, 4 and failed on node 3, which kept its tombstone copy at rsn 5. The
  // next recovery saw the write (pushed, naming the old leader as dmaster) and node 3's tombstone
  // at the same rsn, and kept the tombstone: an acknowledged write lost. Fixed by the rsn rule for
  // a tombstone written again (DESIGN §2.1 rule 5: the dmaster's copy has strictly the highest
  // rsn except identical tombstone copies): data stored into an empty record raises its rsn.
  [4_002_174, 'a record written again at the rsn of its vacuumed tombstone, then a recovery that fails part-way: the write survives'],
])('seed %i: %s', (seed) => {
  const r = runSeeds([seed]);
  expect(r.failure).toBeUndefined();
});
