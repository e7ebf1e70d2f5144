// Shared local access (DESIGN §2.2): a client locks and writes records in the node's db file
// itself while the fence holds, and falls back to dbd in every other case.
import { describe, expect, test } from 'vitest';
import { RecordFlags, SharedAccessDb, newLockToken } from '@ctdbng/store';
import { fencedPair, incarnation, key, nowNs } from './helpers.js';

function withRecord(data = 'v', dmaster = 0, flags = 0) {
  const pair = fencedPair();
  pair.db.records.put(key('a'), { rsn: 5, dmaster, flags }, key(data));
  return pair;
}

function lockOk(sa: SharedAccessDb, k = key('a')) {
  const r = sa.lock(k);
  if (!r.ok) throw new Error(`lock fell back: ${r.fallback}`);
  return r;
}

describe('SharedAccessDb lock', () => {
  test('lock with a valid fence returns the record and inserts a lock row for this pid', () => {
    const { db, sa } = withRecord('hello');
    const before = nowNs();
    const r = lockOk(sa);
    expect(r.header).toEqual({ rsn: 5, dmaster: 0, flags: 0 });
    expect(r.data).toEqual(key('hello'));
    const row = db.locks.get(key('a'))!;
    expect(row).toMatchObject({ holder: `sa:${process.pid}`, pid: process.pid, token: r.token, pending_migration: 0 });
    // The lease runs meta.lock_lease_ms (default 10 s) on CLOCK_MONOTONIC.
    expect(row.expires_ns).toBe(r.expiresNs);
    expect(r.expiresNs).toBeGreaterThanOrEqual(before + 10_000e6);
  });

  test('lock of a frozen db falls back with frozen', () => {
    const { db, sa } = withRecord();
    db.meta.set({ frozen: 1 });
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'frozen' });
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('lock with an expired lease falls back with fence', () => {
    const { db, sa } = withRecord();
    db.meta.setLease(nowNs() - 1);
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'fence' });
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('lock after dbd restarted with another incarnation falls back with fence', () => {
    const { db, sa } = withRecord();
    db.meta.set({ incarnation: incarnation + 1 });
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'fence' });
  });

  test('lock of a record another node is dmaster of falls back with not_dmaster', () => {
    const { sa } = withRecord('v', 1);
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'not_dmaster' });
  });

  test('lock of a key with no record here falls back with absent', () => {
    const { sa } = fencedPair();
    expect(sa.lock(key('nothing'))).toEqual({ ok: false, fallback: 'absent' });
  });

  test('lock of a key somebody holds falls back with locked', () => {
    const { db, sa } = withRecord();
    db.lock(key('a'), { holder: 'dbd', pid: 1, expiresNs: nowNs() + 1e9, token: 77 });
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'locked' });
    expect(db.locks.get(key('a'))?.token).toBe(77);
  });

  test('lock of a key marked for a migration falls back with locked', () => {
    const { db, sa } = withRecord();
    db.locks.mark(key('a'));
    expect(sa.lock(key('a'))).toEqual({ ok: false, fallback: 'locked' });
    expect(db.locks.get(key('a'))).toMatchObject({ holder: '', pending_migration: 1 });
  });

  test('a tombstone this node is dmaster of can be locked, with empty data', () => {
    const { sa } = withRecord('');
    expect(lockOk(sa).data.length).toBe(0);
  });
});

describe('SharedAccessDb store and unlock', () => {
  test('store then unlock writes the data, keeps rsn and dmaster, and frees the key', () => {
    const { db, sa } = withRecord();
    const { token } = lockOk(sa);
    expect(sa.store(key('a'), token, key('new'), false)).toEqual({ ok: true });
    expect(db.locks.get(key('a'))?.token).toBe(token);
    expect(sa.unlock(key('a'), token)).toEqual({ ok: true });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, dmaster: 0, data: key('new') });
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('store with unlock frees the key in the same transaction', () => {
    const { db, sa } = withRecord();
    const { token } = lockOk(sa);
    expect(sa.store(key('a'), token, key('new'), true)).toEqual({ ok: true });
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('a store of data clears AUTOMATIC', () => {
    const { db, sa } = withRecord('', 0, RecordFlags.AUTOMATIC);
    const { token } = lockOk(sa);
    sa.store(key('a'), token, key('new'), true);
    expect(db.records.get(key('a'))?.flags).toBe(0);
  });

  test('a delete writes a tombstone and appends to the vacuum feed with the rsn and wipe epoch', () => {
    const { db, sa } = withRecord();
    db.meta.set({ wipe_epoch: 3 });
    const { token } = lockOk(sa);
    expect(sa.store(key('a'), token, Buffer.alloc(0), true)).toEqual({ ok: true });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, data: Buffer.alloc(0) });
    expect(db.feed.since(0, 10)).toMatchObject([{ key: key('a'), rsn: 5, epoch: 3 }]);
  });

  test('a store with a broken lock fails with lockLost and writes nothing', () => {
    const { db, sa } = withRecord('old');
    const { token } = lockOk(sa);
    db.locks.breakLock(key('a'), token);
    expect(sa.store(key('a'), token, Buffer.alloc(0), true)).toEqual({ ok: false, lockLost: true });
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
    expect(db.feed.count()).toBe(0);
  });

  test('a store with a lock handed to somebody else fails with lockLost', () => {
    const { db, sa } = withRecord('old');
    const { token } = lockOk(sa);
    db.locks.breakLock(key('a'), token);
    db.lock(key('a'), { holder: 'dbd', pid: 1, expiresNs: nowNs() + 1e9, token: newLockToken() });
    expect(sa.store(key('a'), token, key('new'), false)).toEqual({ ok: false, lockLost: true });
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
  });

  test('a store after the lease lapsed falls back with fence and writes nothing', () => {
    const { db, sa } = withRecord('old');
    const { token } = lockOk(sa);
    db.meta.setLease(nowNs() - 1);
    expect(sa.store(key('a'), token, key('new'), true)).toEqual({ ok: false, fallback: 'fence' });
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
    expect(db.locks.get(key('a'))?.token).toBe(token);
  });

  test('a store while frozen falls back with frozen and writes nothing', () => {
    const { db, sa } = withRecord('old');
    const { token } = lockOk(sa);
    db.meta.set({ frozen: 1 });
    expect(sa.store(key('a'), token, key('new'), true)).toEqual({ ok: false, fallback: 'frozen' });
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
  });

  test('unlock of a row marked meanwhile by a migration leaves the bare mark', () => {
    const { db, sa } = withRecord();
    const { token } = lockOk(sa);
    db.locks.mark(key('a'));
    expect(sa.unlock(key('a'), token)).toEqual({ ok: true });
    expect(db.locks.get(key('a'))).toMatchObject({ holder: '', token: 0, pending_migration: 1 });
  });

  test('store with unlock of a marked row leaves the bare mark', () => {
    const { db, sa } = withRecord();
    const { token } = lockOk(sa);
    db.locks.mark(key('a'));
    expect(sa.store(key('a'), token, key('new'), true)).toEqual({ ok: true });
    expect(db.locks.get(key('a'))).toMatchObject({ holder: '', token: 0, pending_migration: 1 });
  });

  test('unlock with a token that holds nothing fails with lockLost', () => {
    const { sa } = withRecord();
    lockOk(sa);
    expect(sa.unlock(key('a'), 12345)).toEqual({ ok: false, lockLost: true });
  });
});

describe('newLockToken', () => {
  test('tokens are positive integers below 2^48', () => {
    for (let i = 0; i < 1000; i++) {
      const t = newLockToken();
      expect(Number.isSafeInteger(t)).toBe(true);
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(2 ** 48);
    }
  });
});
