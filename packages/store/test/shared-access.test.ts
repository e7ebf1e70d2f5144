// Shared local access (DESIGN §2.2): a client locks and writes records in the node's db file
// itself while the fence holds, and falls back to dbd in every other case.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, onTestFinished, test } from 'vitest';
import { RecordFlags, SharedAccessDb, StoreBusyError, newLockToken } from '@ctdbng/store';
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

  test('data stored into a tombstone raises the rsn by one (store and update); empty data keeps it', () => {
    const { db, sa } = withRecord('');
    const { token } = lockOk(sa);
    expect(sa.store(key('a'), token, key('again'), true)).toEqual({ ok: true });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 6, dmaster: 0, data: key('again') });
    expect(sa.update(key('a'), () => key(''))).toMatchObject({ ok: true, header: { rsn: 6 } });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 6, data: key('') });
    expect(sa.update(key('a'), () => key('third'))).toMatchObject({ ok: true, header: { rsn: 7 } });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 7, data: key('third') });
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

describe('SharedAccessDb update (lock, fn, store, unlock in one transaction)', () => {
  test('update writes what fn returns from the current data, keeps rsn and dmaster, and leaves no lock row', () => {
    const { db, sa } = withRecord('41');
    const seen: string[] = [];
    const r = sa.update(key('a'), (current) => {
      seen.push(current.toString());
      // Inside the transaction, before any write: there is no lock row to see, ever.
      expect(db.locks.get(key('a'))).toBeUndefined();
      return key(String(Number(current.toString()) + 1));
    });
    expect(r).toEqual({ ok: true, header: { rsn: 5, dmaster: 0, flags: 0 }, data: key('42') });
    expect(seen).toEqual(['41']);
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, dmaster: 0, data: key('42') });
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('update is one write transaction: from its read to its write no other writer gets in', () => {
    const { db, sa, path } = withRecord('1');
    const other = new BetterSqlite3(path);
    onTestFinished(() => {
      other.close();
    });
    other.pragma('busy_timeout = 0');
    let otherWrite: unknown;
    sa.update(key('a'), () => {
      try {
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
        otherWrite = 'got in';
      } catch (err) {
        otherWrite = (err as { code?: string }).code;
      }
      return key('2');
    });
    expect(otherWrite).toBe('SQLITE_BUSY');
    expect(db.records.get(key('a'))?.data).toEqual(key('2'));
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('update of a record with AUTOMATIC clears the flag when it stores data', () => {
    const { db, sa } = withRecord('', 0, RecordFlags.AUTOMATIC);
    const r = sa.update(key('a'), () => key('x'));
    expect(r.ok && r.header.flags).toBe(0);
    expect(db.records.get(key('a'))?.flags).toBe(0);
  });

  test('update returning empty data deletes: a tombstone and its feed entry in the same transaction', () => {
    const { db, sa } = withRecord('old');
    db.meta.set({ wipe_epoch: 4 });
    expect(sa.update(key('a'), () => Buffer.alloc(0))).toMatchObject({ ok: true, data: Buffer.alloc(0) });
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, data: Buffer.alloc(0) });
    expect(db.feed.since(0, 10)).toMatchObject([{ key: key('a'), rsn: 5, epoch: 4 }]);
  });

  test('update falls back, without calling fn or writing, wherever lock would: frozen, fence, absent, not dmaster, locked, marked', () => {
    const cases: [string, (p: ReturnType<typeof withRecord>) => void, string][] = [
      ['frozen', (p) => p.db.meta.set({ frozen: 1 }), 'frozen'],
      ['lease lapsed', (p) => p.db.meta.setLease(nowNs() - 1), 'fence'],
      ['another incarnation', (p) => p.db.meta.set({ incarnation: incarnation + 1 }), 'fence'],
      ['not dmaster', (p) => p.db.records.put(key('a'), { rsn: 5, dmaster: 1, flags: 0 }, key('v')), 'not_dmaster'],
      ['held', (p) => p.db.lock(key('a'), { holder: 'dbd', pid: 1, expiresNs: nowNs() + 1e9, token: 77 }), 'locked'],
      ['marked', (p) => p.db.locks.mark(key('a')), 'locked'],
    ];
    for (const [name, arrange, fallback] of cases) {
      const pair = withRecord('v');
      arrange(pair);
      let calls = 0;
      const r = pair.sa.update(key('a'), () => {
        calls++;
        return key('new');
      });
      expect(r, name).toEqual({ ok: false, fallback });
      expect(calls, name).toBe(0);
      expect(pair.db.records.get(key('a'))?.data, name).toEqual(key('v'));
      expect(pair.db.feed.count(), name).toBe(0);
    }
    const { sa } = fencedPair();
    expect(sa.update(key('nothing'), () => key('x'))).toEqual({ ok: false, fallback: 'absent' });
  });

  test('a throw from fn rolls the step back: nothing written, no lock row, the error reaches the caller', () => {
    const { db, sa } = withRecord('keep');
    expect(() => sa.update(key('a'), () => {
      throw new RangeError('fn refused');
    })).toThrow(RangeError);
    expect(db.records.get(key('a'))?.data).toEqual(key('keep'));
    expect(db.locks.get(key('a'))).toBeUndefined();
    // The connection is usable afterwards (the transaction was rolled back, not left open).
    expect(sa.update(key('a'), () => key('next')).ok).toBe(true);
  });

  test('an update on a busy file gives StoreBusyError after the bound, without calling fn', () => {
    const { sa, path } = withRecord('v');
    const other = new BetterSqlite3(path);
    onTestFinished(() => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    });
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    let calls = 0;
    expect(() => sa.update(key('a'), () => {
      calls++;
      return key('x');
    })).toThrow(StoreBusyError);
    expect(calls).toBe(0);
  }, 15_000);
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
