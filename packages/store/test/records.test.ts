// The records table (DESIGN §8): headers, data, tombstones and keyset pages.
import { describe, expect, test } from 'vitest';
import { RecordFlags } from '@ctdbng/store';
import { key, openDb } from './helpers.js';

describe('records', () => {
  test('put then get returns the header and the data', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 5, dmaster: 2, flags: RecordFlags.MIGRATED_WITH_DATA }, key('v'));
    expect(db.records.get(key('a'))).toEqual({ key: key('a'), rsn: 5, dmaster: 2, flags: 1, data: key('v') });
    expect(db.records.get(key('b'))).toBeUndefined();
  });

  test('put over an existing key replaces header and data', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 5, dmaster: 2, flags: 1 }, key('v'));
    db.records.put(key('a'), { rsn: 6, dmaster: 0, flags: 0 }, key('w'));
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 6, dmaster: 0, flags: 0, data: key('w') });
    expect(db.records.count()).toBe(1);
  });

  test('setData changes data and flags and keeps rsn and dmaster', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 5, dmaster: 2, flags: 1 }, key('v'));
    db.records.setData(key('a'), key('new'), 0);
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, dmaster: 2, flags: 0, data: key('new') });
  });

  test('setDmaster changes only the dmaster', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 5, dmaster: 2, flags: 1 }, key('v'));
    db.records.setDmaster(key('a'), 1);
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 5, dmaster: 1, flags: 1, data: key('v') });
  });

  test('remove deletes the row and says whether there was one', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 1, dmaster: 0, flags: 0 }, key('v'));
    expect(db.records.remove(key('a'))).toBe(true);
    expect(db.records.remove(key('a'))).toBe(false);
    expect(db.records.count()).toBe(0);
  });

  test('pageAll in pages of 1000 over 2,500 records returns each record exactly once, in key order', () => {
    const db = openDb();
    db.tx(() => {
      for (let i = 0; i < 2500; i++) {
        const data = i % 3 === 0 ? Buffer.alloc(0) : key(`v${i}`);
        db.records.put(key(`k${String(i).padStart(5, '0')}`), { rsn: i + 1, dmaster: i % 2, flags: 0 }, data);
      }
    });
    const seen: string[] = [];
    let after: Buffer | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = db.records.pageAll(after, 1000);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(1000);
      seen.push(...page.map((r) => r.key.toString()));
      after = page[page.length - 1]!.key;
    }
    expect(seen.length).toBe(2500);
    expect(new Set(seen).size).toBe(2500);
    expect(seen).toEqual([...seen].sort());
  });

  test('pageLive returns only non-empty records this node is dmaster of, each exactly once', () => {
    const db = openDb();
    const expected: string[] = [];
    db.tx(() => {
      for (let i = 0; i < 2500; i++) {
        const k = `k${String(i).padStart(5, '0')}`;
        const tombstone = i % 3 === 0;
        const dmaster = i % 2;
        db.records.put(key(k), { rsn: i + 1, dmaster, flags: 0 }, tombstone ? Buffer.alloc(0) : key(`v${i}`));
        if (!tombstone && dmaster === 0) expected.push(k);
      }
    });
    const seen: string[] = [];
    let after: Buffer | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = db.records.pageLive(after, 0, 1000);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.key.toString()));
      after = page[page.length - 1]!.key;
    }
    expect(seen).toEqual(expected);
  });

  test('keys order bytewise, so a key with a 0xff byte pages after every shorter prefix', () => {
    const db = openDb();
    for (const k of [Buffer.from([0xff]), Buffer.from([0x00]), Buffer.from([0x00, 0x00]), Buffer.from([0x7f])]) {
      db.records.put(k, { rsn: 1, dmaster: 0, flags: 0 }, key('v'));
    }
    const first = db.records.pageAll(undefined, 2);
    const rest = db.records.pageAll(first[1]!.key, 2);
    expect([...first, ...rest].map((r) => r.key.toString('hex'))).toEqual(['00', '0000', '7f', 'ff']);
  });
});
