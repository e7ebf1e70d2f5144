// The vacuum steps per route (DESIGN §4.2–4): each route of VacuumPlan ends in its outcome.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@ctdbng/protocol';
import { VacuumPhase, VacuumResult, VacuumRoute, verdictFor } from '../src/index.js';
import { k, volatileDb } from './fake-dbd.js';
import { rig } from './helpers.js';

const R = VacuumRoute;
const V = VacuumResult;

describe('vacuum routes', () => {
  it('every route of the plan ends in its outcome and the VacuumNow counts say so', () => {
    const { dbd, state, reports, vacuumNow } = rig();
    for (const key of ['a-gone', 'b-recreated', 'c-notdm', 'd-lm', 'e-local', 'f-cluster', 'g-busy']) dbd.delete(key);
    dbd.routes.set('a-gone', R.VACUUM_ROUTE_GONE);
    dbd.routes.set('b-recreated', R.VACUUM_ROUTE_RECREATED);
    dbd.routes.set('c-notdm', R.VACUUM_ROUTE_NOT_DMASTER);
    dbd.routes.set('d-lm', R.VACUUM_ROUTE_TO_LMASTER);
    dbd.migrateOk.add('d-lm');
    dbd.routes.set('e-local', R.VACUUM_ROUTE_LOCAL_PURGE);
    dbd.routes.set('g-busy', R.VACUUM_ROUTE_BUSY);

    const out = vacuumNow('v.db');

    expect(out).toEqual([{ db: 'v.db', purged: 2, pending: 1, failed: 1 }]);
    expect(reports[0]!.counts).toMatchObject({ seen: 7, purged: 2, dropped: 3, migrated: 1, retried: 1, failed: 0 });
    expect(dbd.callsOf('migrate')).toEqual(['migrate d-lm']);
    expect(dbd.callsOf('remote')).toEqual(['remote store f-cluster', 'remote delete f-cluster']);
    expect(dbd.callsOf('purge')).toEqual(['purge 7 e-local@2', 'purge 7 f-cluster@2']);
    expect(state.has(volatileDb.dbId, k('g-busy'))).toBe(true);
    expect(dbd.acked).toBe(7);
  });

  it('a node answering NEWER to StoreTombstone drops the item and nothing is deleted or purged', () => {
    const { dbd, reports, vacuumNow } = rig();
    dbd.delete('x');
    dbd.remote.set('x', () => [V.VACUUM_RESULT_STORED, V.VACUUM_RESULT_NEWER, V.VACUUM_RESULT_LOCKED]);

    const out = vacuumNow('v.db');

    expect(out).toEqual([{ db: 'v.db', purged: 0, pending: 0, failed: 0 }]);
    expect(reports[0]!.counts).toMatchObject({ seen: 1, dropped: 1, droppedNewer: 1 });
    expect(dbd.callsOf('remote')).toEqual(['remote store x']);
    expect(dbd.callsOf('purge')).toEqual([]);
  });

  it('IS_DMASTER from a member drops the item like NEWER', () => {
    const nodes = [{ pnn: 0, refusedCode: 0, results: [V.VACUUM_RESULT_STORED] }, { pnn: 1, refusedCode: 0, results: [V.VACUUM_RESULT_IS_DMASTER] }];
    expect(verdictFor(nodes, 0, new Set([V.VACUUM_RESULT_STORED]), new Set([V.VACUUM_RESULT_NEWER, V.VACUUM_RESULT_IS_DMASTER]))).toBe('drop');
  });

  it('LOCKED, UNREACHABLE and IS_LMASTER from any member keep the item for a retry', () => {
    const { dbd, reports, vacuumNow } = rig();
    dbd.delete('l');
    dbd.delete('u');
    dbd.delete('m');
    dbd.remote.set('l', () => [V.VACUUM_RESULT_STORED, V.VACUUM_RESULT_LOCKED, V.VACUUM_RESULT_ABSENT]);
    dbd.remote.set('u', () => [V.VACUUM_RESULT_STORED, V.VACUUM_RESULT_STORED, V.VACUUM_RESULT_UNREACHABLE]);
    dbd.remote.set('m', () => [V.VACUUM_RESULT_IS_LMASTER, V.VACUUM_RESULT_STORED, V.VACUUM_RESULT_STORED]);

    const out = vacuumNow('v.db');

    expect(out).toEqual([{ db: 'v.db', purged: 0, pending: 3, failed: 3 }]);
    expect(reports[0]!.counts).toMatchObject({ seen: 3, retried: 3 });
    expect(dbd.callsOf('purge')).toEqual([]);
  });

  it('a batch refused whole by one member (ERR_WRONG_GENERATION) is retried', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('r');
    dbd.refused = { pnn: 2, code: ErrorCode.ERR_WRONG_GENERATION };
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 1, failed: 1 }]);
    dbd.refused = undefined;
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 1, pending: 0, failed: 0 }]);
  });

  it('TryDelete answered other than DELETED/ABSENT, or a refused purge, is retried', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('t');
    dbd.delete('p');
    dbd.remote.set('t', (phase) => (phase === 2 ? [V.VACUUM_RESULT_DELETED, V.VACUUM_RESULT_NEWER, V.VACUUM_RESULT_DELETED] : []));
    dbd.purgeRefused.add('p');
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 2, failed: 2 }]);
  });

  it('a migration not done is retried; the next plan decides again', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('d');
    dbd.routes.set('d', R.VACUUM_ROUTE_TO_LMASTER);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 1, failed: 1 }]);
    dbd.routes.set('d', R.VACUUM_ROUTE_GONE);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 0, pending: 0, failed: 0 }]);
  });

  it('the steps after the plan name the tombstone\'s current rsn when it is above the feed\'s', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('m', 3);
    dbd.planRsn.set('m', 5);
    vacuumNow('v.db');
    expect(dbd.callsOf('purge')).toEqual(['purge 7 m@5']);
  });

  it('the steps name the rsn the dmaster reports also when it is below the one vacuumd remembers (a record re-created after a recovery)', () => {
    const { dbd, vacuumNow } = rig();
    dbd.delete('z', 9); // the tombstone vacuumd learned of, at rsn 9
    dbd.planRsn.set('z', 4); // a recovery dropped it; it was re-created and deleted again at rsn 4
    const stored: number[] = [];
    const remote = dbd.vacuumRemote.bind(dbd);
    dbd.vacuumRemote = (dbId, phase, keys) => {
      if (phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE) stored.push(...keys.map((x) => x.rsn));
      return remote(dbId, phase, keys);
    };
    vacuumNow('v.db');
    // A tombstone planted above the dmaster's rsn would win the next merge over newer data.
    expect(stored).toEqual([4]);
    expect(dbd.callsOf('purge')).toEqual(['purge 7 z@4']);
  });

  it('VacuumNow of an unknown or persistent db is refused with ERR_UNKNOWN_DB', () => {
    const { vacuumNowAnswer } = rig();
    expect(vacuumNowAnswer('nope.db')).toMatchObject({ ok: false, error: { code: ErrorCode.ERR_UNKNOWN_DB } });
    expect(vacuumNowAnswer('p.db')).toMatchObject({ ok: false, error: { code: ErrorCode.ERR_UNKNOWN_DB } });
  });

  it('VacuumNow without a name runs every volatile db', () => {
    const { dbd, vacuumNow } = rig();
    dbd.dbs.push({ dbId: 33, name: 'w.db', persistent: false });
    dbd.delete('z');
    const out = vacuumNow('');
    expect(vacuumNow()).toEqual(out.map((r) => ({ ...r, purged: 0 })));
    expect(out.map((r) => r.db)).toEqual(['v.db', 'w.db']);
  });

  it('items go to dbd in batches of VacuumBatchSize', () => {
    const { dbd, vacuumNow } = rig({ settings: { batchSizeCount: 2 } });
    for (const key of ['a', 'b', 'c', 'd', 'e']) dbd.delete(key);
    expect(vacuumNow('v.db')).toEqual([{ db: 'v.db', purged: 5, pending: 0, failed: 0 }]);
    expect(dbd.callsOf('plan')).toEqual(['plan a,b', 'plan c,d', 'plan e']);
  });
});
