// A request's writes in one transaction (DESIGN §8): store under lock, delete with its feed
// entry, the lmaster's AUTOMATIC record, wipe.
import { describe, expect, test } from 'vitest';
import { packRecords } from '@ctdbng/protocol';
import { RecordFlags } from '@ctdbng/store';
import { key, openDb } from './helpers.js';

const req = (token: number) => ({ holder: 'client-1', pid: 100, expiresNs: 1e15, token });

function lockedRecord(flags = 0) {
  const db = openDb();
  db.records.put(key('a'), { rsn: 9, dmaster: 0, flags }, key('old'));
  db.lock(key('a'), req(42));
  return db;
}

describe('storeUnderLock', () => {
  test('a store keeps rsn and dmaster and writes the data', () => {
    const db = lockedRecord();
    expect(db.storeUnderLock(key('a'), 42, key('new'), false)).toBe('ok');
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 9, dmaster: 0, data: key('new') });
    expect(db.locks.get(key('a'))?.token).toBe(42);
  });

  test('data stored into a tombstone raises the rsn by one; a tombstone stored keeps it', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 9, dmaster: 0, flags: 0 }, key(''));
    db.lock(key('a'), req(42));
    expect(db.storeUnderLock(key('a'), 42, key('again'), false)).toBe('ok');
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 10, dmaster: 0, data: key('again') });
    expect(db.storeUnderLock(key('a'), 42, undefined, false)).toBe('ok');
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 10, data: key('') });
  });

  test('a store with unlock releases the lock in the same call', () => {
    const db = lockedRecord();
    expect(db.storeUnderLock(key('a'), 42, key('new'), true)).toBe('ok');
    expect(db.locks.get(key('a'))).toBeUndefined();
  });

  test('a store with a wrong token fails with lock_lost and writes nothing', () => {
    const db = lockedRecord();
    expect(db.storeUnderLock(key('a'), 43, key('new'), true)).toBe('lock_lost');
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
    expect(db.locks.get(key('a'))?.token).toBe(42);
    expect(db.feed.count()).toBe(0);
  });

  test('a store with a broken lock fails with lock_lost and writes nothing', () => {
    const db = lockedRecord();
    db.locks.breakLock(key('a'), 42);
    expect(db.storeUnderLock(key('a'), 42, undefined, false)).toBe('lock_lost');
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
    expect(db.feed.count()).toBe(0);
  });

  test('a store of data clears AUTOMATIC and keeps MIGRATED_WITH_DATA', () => {
    const db = lockedRecord(RecordFlags.AUTOMATIC | RecordFlags.MIGRATED_WITH_DATA);
    db.storeUnderLock(key('a'), 42, key('new'), false);
    expect(db.records.get(key('a'))?.flags).toBe(RecordFlags.MIGRATED_WITH_DATA);
  });

  test('a delete writes a tombstone and a feed entry with the record rsn and the wipe epoch', () => {
    const db = lockedRecord();
    expect(db.storeUnderLock(key('a'), 42, undefined, true)).toBe('ok');
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 9, dmaster: 0, data: Buffer.alloc(0) });
    expect(db.feed.since(0, 10)).toEqual([{ seq: 1, key: key('a'), rsn: 9, epoch: 0 }]);
  });

  test('a delete whose feed append fails leaves the record as it was (one transaction)', () => {
    const db = lockedRecord();
    db.sql.exec("CREATE TRIGGER refuse_feed BEFORE INSERT ON deleted BEGIN SELECT RAISE(ABORT, 'feed refused'); END");
    expect(() => db.storeUnderLock(key('a'), 42, undefined, true)).toThrow(/feed refused/);
    expect(db.records.get(key('a'))?.data).toEqual(key('old'));
    expect(db.locks.get(key('a'))?.token).toBe(42);
  });
});

describe('createAutomatic', () => {
  test('the empty record has rsn 1, this node as dmaster, AUTOMATIC, and a feed entry', () => {
    const db = openDb();
    const rec = db.createAutomatic(key('z'), 0);
    expect(rec).toEqual({ key: key('z'), rsn: 1, dmaster: 0, flags: RecordFlags.AUTOMATIC, data: Buffer.alloc(0) });
    expect(db.records.get(key('z'))).toEqual(rec);
    expect(db.feed.since(0, 10)).toMatchObject([{ key: key('z'), rsn: 1, epoch: 0 }]);
  });
});

describe('deleted feed', () => {
  test('seq is never reused after a trim', () => {
    const db = openDb();
    db.feed.append(key('a'), 1, 0);
    db.feed.append(key('b'), 1, 0);
    db.feed.trimThrough(2);
    db.feed.append(key('c'), 1, 0);
    expect(db.feed.since(0, 10).map((e) => e.seq)).toEqual([3]);
  });
});

describe('wipe', () => {
  test('a wipe empties records, locks and feed, bumps wipe_epoch and keeps the rest of meta', () => {
    const db = openDb();
    db.meta.set({ generation: 5, incarnation: 3, lease_until_ns: 123 });
    db.records.put(key('a'), { rsn: 2, dmaster: 0, flags: 0 }, key('v'));
    db.lock(key('a'), req(1));
    db.locks.mark(key('b'));
    db.feed.append(key('c'), 4, 0);
    db.wipe();
    expect(db.records.count()).toBe(0);
    expect(db.locks.all()).toEqual([]);
    expect(db.feed.count()).toBe(0);
    expect(db.meta.get()).toMatchObject({ generation: 5, incarnation: 3, lease_until_ns: 123, wipe_epoch: 1, name: 'test.tdb' });
  });

  test('a feed entry after a wipe carries the new epoch and a seq above the old ones', () => {
    const db = openDb();
    db.createAutomatic(key('a'), 0);
    db.wipe();
    db.createAutomatic(key('b'), 0);
    expect(db.feed.since(0, 10)).toMatchObject([{ seq: 2, epoch: 1 }]);
  });
});

describe('recovery push and install', () => {
  test('the recovery leader\'s install bumps every pushed record\'s rsn and puts the pushed tombstones in its vacuum feed at their new rsn', () => {
    const db = openDb();
    const before = db.feed.since(0, 100).length;
    db.beginPush();
    db.pushPacked(packRecords([
      { key: key('live'), rsn: 4, dmaster: 0, flags: RecordFlags.MIGRATED_WITH_DATA, data: key('v') },
      { key: key('gone'), rsn: 7, dmaster: 0, flags: RecordFlags.MIGRATED_WITH_DATA, data: Buffer.alloc(0) },
    ]), 2);
    db.commitPush(9, true);
    expect(db.install(9, { member: true, leader: true })).toBe(2);
    expect(db.records.get(key('gone'))).toMatchObject({ rsn: 8, dmaster: 0 });
    expect(db.feed.since(0, 100).slice(before).map((e) => [Buffer.from(e.key).toString(), e.rsn])).toEqual([['gone', 8]]);
  });

  test('a member that is not the leader installs without bumping or feeding: the leader vacuums the tombstones', () => {
    const db = openDb();
    const before = db.feed.since(0, 100).length;
    db.beginPush();
    db.pushPacked(packRecords([{ key: key('gone'), rsn: 7, dmaster: 1, flags: RecordFlags.MIGRATED_WITH_DATA, data: Buffer.alloc(0) }]), 1);
    db.commitPush(9, true);
    expect(db.install(9, { member: true, leader: false })).toBe(0);
    expect(db.records.get(key('gone'))).toMatchObject({ rsn: 7 });
    expect(db.feed.since(0, 100).length).toBe(before);
  });
});
