// A member whose copy of a record is locked (or marked by a waiting dbd request) answers LOCKED
// to the lmaster's StoreTombstone and TryDelete and keeps its copy; once the lock is gone the same
// phases store, delete and the lmaster purges (DESIGN §4.3–4.4).
//
// Played on the dbd core harness (packages/dbd/test/harness.ts: three DbdCores in one process,
// wire framing, virtual time), with the test in vacuumd's place: in the running cluster a lock row
// on a member's *stale* copy exists only for a moment (a dbd waiter's mark left while its own call
// chases the record; a shared-access client locks only where its node is dmaster), so the LOCKED
// answer cannot be produced there on purpose. The multi-process side of "locked → retried →
// completes after release" is test/vacuum/locked-retried.test.ts.
import { expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { ctdbng } from '@ctdbng/protocol';
import { startCluster, type Cluster } from '../../packages/dbd/test/harness.js';

const Phase = ctdbng.v1.VacuumPhase;
const Result = ctdbng.v1.VacuumResult;

function keyWithLmaster(lmaster: number): Buffer {
  for (let i = 0; ; i++) {
    const key = Buffer.from(`locked-member-${i}`);
    if (lmasterOf(key, [0, 1, 2]) === lmaster) return key;
  }
}

/** vacuumd's VacuumRemote on the lmaster: per node, its answer for the one key (or its refusal). */
function phase(c: Cluster, lmaster: number, phaseId: ctdbng.v1.VacuumPhase, key: Buffer, rsn: number): Record<number, number> {
  const reply = c.call(lmaster, 'vacuumd', { vacuumRemote: { dbId: c.dbId, phase: phaseId, keys: [{ key, rsn }] } }).body('vacuumRemoteReply');
  return Object.fromEntries(reply.nodes.map((n) => [n.pnn ?? 0, n.refusedCode ? -(n.refusedCode) : (n.results?.[0] ?? 0)]));
}

test('A record locked on a member is not deleted there (LOCKED); the same deletion completes after the lock is released', () => {
  const c = startCluster({ nodes: 3, dbName: 'locked-member.tdb' });
  const key = keyWithLmaster(1);
  // Data migrated 0 → 2 → 0: stale copies with data on nodes 1 and 2.
  c.write(0, 'w', key, Buffer.from('v0'));
  c.write(2, 'w', key, Buffer.from('v1'));
  c.write(0, 'w', key, Buffer.from('v2'));
  c.write(0, 'w', key, undefined); // node 0 (dmaster, not lmaster) deletes it

  // vacuumd of node 0: hand the tombstone to the lmaster.
  const mig = c.call(0, 'vacuumd', { migrateToLmaster: { dbId: c.dbId, keys: [{ key, rsn: c.record(0, key)!.rsn }] } }).body('migrateToLmasterReply');
  expect(mig.migrated).toEqual([true]);
  const tomb = c.record(1, key)!;
  expect(tomb).toMatchObject({ dmaster: 1 });
  expect(tomb.data.length).toBe(0);

  // Node 2's stale copy is marked in its locks table, as dbd marks a key a local request waits on.
  const file2 = c.cores[2]!.ctx.dbs.get(c.dbId)!.file;
  file2.tx(() => file2.locks.mark(key));

  expect(phase(c, 1, Phase.VACUUM_PHASE_STORE_TOMBSTONE, key, tomb.rsn)).toEqual({ 0: Result.VACUUM_RESULT_STORED, 2: Result.VACUUM_RESULT_LOCKED });
  expect(c.record(2, key)!.data.toString(), 'the locked copy is left alone').toBe('v1');
  expect(phase(c, 1, Phase.VACUUM_PHASE_TRY_DELETE, key, tomb.rsn)).toEqual({ 0: Result.VACUUM_RESULT_DELETED, 2: Result.VACUUM_RESULT_LOCKED });
  expect(c.record(2, key)!.data.toString()).toBe('v1');
  expect(c.record(1, key), 'the lmaster keeps its tombstone while a member has not deleted').toBeDefined();

  // Released: the retried phases complete and the lmaster purges.
  file2.tx(() => file2.locks.unmark(key));
  expect(phase(c, 1, Phase.VACUUM_PHASE_STORE_TOMBSTONE, key, tomb.rsn)).toEqual({ 0: Result.VACUUM_RESULT_ABSENT, 2: Result.VACUUM_RESULT_STORED });
  expect(phase(c, 1, Phase.VACUUM_PHASE_TRY_DELETE, key, tomb.rsn)).toEqual({ 0: Result.VACUUM_RESULT_ABSENT, 2: Result.VACUUM_RESULT_DELETED });
  const purge = c.call(1, 'vacuumd', { purgeIfUnchanged: { dbId: c.dbId, generation: c.generation, keys: [{ key, rsn: tomb.rsn }] } }).body('purgeIfUnchangedReply');
  expect(purge.purged).toEqual([true]);
  expect(c.copies(key)).toEqual([]);
});
