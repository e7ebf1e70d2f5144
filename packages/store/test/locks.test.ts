// Record locks as rows (DESIGN §2.2): held rows, marks of waiting migrations, hand-over, break.
import { describe, expect, test } from 'vitest';
import type { LockRequest } from '@ctdbng/store';
import { key, openDb } from './helpers.js';

const dbdReq = (token: number): LockRequest => ({ holder: 'dbd', pid: 100, expiresNs: 1e15, token });

describe('locks', () => {
  test('take of a free key inserts a held row', () => {
    const db = openDb();
    expect(db.tx(() => db.locks.take(key('a'), dbdReq(1)))).toBe(true);
    expect(db.locks.get(key('a'))).toMatchObject({ holder: 'dbd', pid: 100, token: 1, pending_migration: 0 });
  });

  test('take of a held key fails and leaves the holder', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    expect(db.tx(() => db.locks.take(key('a'), { ...dbdReq(2), holder: 'other' }))).toBe(false);
    expect(db.locks.get(key('a'))?.token).toBe(1);
  });

  test('release with the holding token deletes the row; another token releases nothing', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    expect(db.locks.release(key('a'), 2)).toBe(false);
    expect(db.locks.get(key('a'))).toBeDefined();
    expect(db.locks.release(key('a'), 1)).toBe(true);
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('handOver passes a held lock to the next holder only from the holding token', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    expect(db.locks.handOver(key('a'), 9, dbdReq(2))).toBe(false);
    expect(db.locks.handOver(key('a'), 1, { ...dbdReq(2), holder: 'client-2', pid: 200 })).toBe(true);
    expect(db.locks.get(key('a'))).toMatchObject({ holder: 'client-2', pid: 200, token: 2 });
  });

  test('renew extends the lease of the holding token only', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    expect(db.locks.renew(key('a'), 2, 5e15)).toBe(false);
    expect(db.locks.renew(key('a'), 1, 5e15)).toBe(true);
    expect(db.locks.get(key('a'))?.expires_ns).toBe(5e15);
  });

  test('mark of a free key leaves a bare mark: no holder, pending_migration = 1', () => {
    const db = openDb();
    db.locks.mark(key('a'));
    expect(db.locks.get(key('a'))).toMatchObject({ holder: '', token: 0, pending_migration: 1 });
  });

  test("dbd's take of a bare mark succeeds and keeps the mark", () => {
    const db = openDb();
    db.locks.mark(key('a'));
    expect(db.tx(() => db.locks.take(key('a'), dbdReq(3)))).toBe(true);
    expect(db.locks.get(key('a'))).toMatchObject({ holder: 'dbd', token: 3, pending_migration: 1 });
  });

  test('mark of a held key sets the flag and keeps the holder', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    db.locks.mark(key('a'));
    expect(db.locks.get(key('a'))).toMatchObject({ holder: 'dbd', token: 1, pending_migration: 1 });
  });

  test('release of a marked held row leaves the bare mark', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    db.locks.mark(key('a'));
    expect(db.locks.release(key('a'), 1)).toBe(true);
    expect(db.locks.get(key('a'))).toMatchObject({ holder: '', pid: 0, token: 0, pending_migration: 1 });
  });

  test('release of a bare mark with token 0 releases nothing', () => {
    const db = openDb();
    db.locks.mark(key('a'));
    expect(db.locks.release(key('a'), 0)).toBe(false);
    expect(db.locks.get(key('a'))?.pending_migration).toBe(1);
  });

  test('unmark deletes a bare mark', () => {
    const db = openDb();
    db.locks.mark(key('a'));
    db.locks.unmark(key('a'));
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('unmark of a held row clears the flag and keeps the holder', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    db.locks.mark(key('a'));
    db.locks.unmark(key('a'));
    expect(db.locks.get(key('a'))).toMatchObject({ holder: 'dbd', token: 1, pending_migration: 0 });
    expect(db.locks.release(key('a'), 1)).toBe(true);
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('breakLock removes the row held with the token, mark included; another token breaks nothing', () => {
    const db = openDb();
    db.tx(() => db.locks.take(key('a'), dbdReq(1)));
    db.locks.mark(key('a'));
    expect(db.locks.breakLock(key('a'), 2)).toBe(false);
    expect(db.locks.breakLock(key('a'), 1)).toBe(true);
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('DbFile.lock returns the record under the lock, or the holding row when locked', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 4, dmaster: 0, flags: 0 }, key('v'));
    const first = db.lock(key('a'), dbdReq(1));
    expect(first).toMatchObject({ result: 'ok', record: { rsn: 4, data: key('v') } });
    const second = db.lock(key('a'), dbdReq(2));
    expect(second).toMatchObject({ result: 'locked', row: { token: 1 } });
    expect(db.lock(key('missing'), dbdReq(3))).toEqual({ result: 'ok', record: undefined });
  });
});
