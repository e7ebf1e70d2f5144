// Recovery pages in the packed layout of proto/ctdbng/v1/recovery.proto (DESIGN §5.3.2): a pull
// page built by SQLite in one statement, and a push that writes packed pages into the push's
// transaction.
import { describe, expect, test } from 'vitest';
import { checkPackedPage, packedHeaderBytes, packRecords, unpackRecords, type PackedRecord } from '@ctdbng/protocol';
import { headersToLittleEndian, PackedPages } from '../src/packed-pages.js';
import { key, openDb } from './helpers.js';

const k = (i: number): Buffer => key(`k${String(i).padStart(5, '0')}`);

function plain(records: readonly PackedRecord[]): object[] {
  return records.map((r) => ({ key: Buffer.from(r.key).toString('hex'), rsn: r.rsn, dmaster: r.dmaster, flags: r.flags, data: Buffer.from(r.data).toString('hex') }));
}

function fill(db: ReturnType<typeof openDb>, n: number): void {
  db.tx(() => {
    for (let i = 0; i < n; i++) db.records.put(k(i), { rsn: i + 1, dmaster: i % 3, flags: i % 4 }, i % 5 === 0 ? Buffer.alloc(0) : key(`v${i}`));
  });
}

describe('pagePacked', () => {
  test('a page packs the records after a key in key order with their headers, tombstones included', () => {
    const db = openDb();
    fill(db, 50);
    const p = db.records.pagePacked(k(9), 20, 1 << 20);
    expect(p.records).toBe(20);
    expect(p.done).toBe(false);
    expect(Buffer.from(p.lastKey!).equals(k(29))).toBe(true);
    expect(checkPackedPage(p.page, { records: 20, ascending: true, after: k(9) })).toMatchObject({ ok: true });
    const rows = db.records.pageAll(k(9), 20);
    expect(plain(unpackRecords(p.page))).toEqual(plain(rows));
  });

  test('pages of 1000 over 2,500 records give every record once, and done only with the last page', () => {
    const db = openDb();
    fill(db, 2500);
    const seen: PackedRecord[] = [];
    let after: Uint8Array | undefined;
    const done: boolean[] = [];
    for (let pages = 0; pages < 10; pages++) {
      const p = db.records.pagePacked(after, 1000, 1 << 20);
      seen.push(...unpackRecords(p.page));
      done.push(p.done);
      if (p.done) break;
      after = p.lastKey;
    }
    expect(done).toEqual([false, false, true]);
    expect(plain(seen)).toEqual(plain(db.records.pageAll(undefined, 3000)));
  });

  test('a page that ends exactly at the last record is not done; the next, empty one is', () => {
    const db = openDb();
    fill(db, 4);
    const p = db.records.pagePacked(undefined, 4, 1 << 20);
    expect([p.records, p.done]).toEqual([4, false]);
    const q = db.records.pagePacked(p.lastKey, 4, 1 << 20);
    expect([q.records, q.done, q.page.length, q.lastKey]).toEqual([0, true, 0, undefined]);
  });

  test('a page stops before the record that would pass bytesMax, and holds one record even if that one alone passes it', () => {
    const db = openDb();
    db.tx(() => {
      for (let i = 0; i < 10; i++) db.records.put(k(i), { rsn: 1, dmaster: 0, flags: 0 }, Buffer.alloc(100, i));
    });
    const one = packedHeaderBytes + 6 + 100;
    const p = db.records.pagePacked(undefined, 10, 3 * one + one - 1);
    expect([p.records, p.done, p.page.length]).toEqual([3, false, 3 * one]);
    expect(Buffer.from(p.lastKey!).equals(k(2))).toBe(true);
    const tiny = db.records.pagePacked(p.lastKey, 10, 10);
    expect([tiny.records, tiny.done]).toEqual([1, false]);
    expect(Buffer.from(unpackRecords(tiny.page)[0]!.key).equals(k(3))).toBe(true);
  });

  test('rsn, dmaster and flags keep every bit, and lengths count bytes also of data a foreign client stored as text', () => {
    const db = openDb();
    db.records.put(key('a'), { rsn: 2 ** 40 + 1, dmaster: 0xfffffffe, flags: 0x80000001 }, key('x'));
    // Shared access from another language may bind a string: the column then holds TEXT.
    db.sql.prepare('INSERT INTO records (key, rsn, dmaster, flags, data) VALUES (?, 3, 1, 0, ?)').run(key('b'), 'héllo');
    const r = unpackRecords(db.records.pagePacked(undefined, 10, 1 << 20).page);
    expect(plain(r)).toEqual(plain([
      { key: key('a'), rsn: 2 ** 40 + 1, dmaster: 0xfffffffe, flags: 0x80000001, data: key('x') },
      { key: key('b'), rsn: 3, dmaster: 1, flags: 0, data: Buffer.from('héllo') },
    ]));
  });

  test('keys and data of any bytes (0x00, 0xff) pack unchanged, in the order of the bytes', () => {
    const db = openDb();
    const keys = [Buffer.from([0xff]), Buffer.from([0x00]), Buffer.from([0x00, 0x00]), Buffer.from([0x7f, 0x00, 0x80])];
    for (const [i, kk] of keys.entries()) db.records.put(kk, { rsn: i, dmaster: 0, flags: 0 }, Buffer.from([0x00, 0xff, i, 0x00]));
    const p = db.records.pagePacked(undefined, 10, 1 << 20);
    expect(unpackRecords(p.page).map((r) => [Buffer.from(r.key).toString('hex'), Buffer.from(r.data).toString('hex')])).toEqual([
      ['00', '00ff0100'], ['0000', '00ff0200'], ['7f0080', '00ff0300'], ['ff', '00ff0000'],
    ]);
    expect(Buffer.from(p.lastKey!).toString('hex')).toBe('ff');
  });

  test('an empty table gives an empty page that is done', () => {
    const p = openDb().records.pagePacked(undefined, 10, 1 << 20);
    expect([p.records, p.done, p.page.length, p.lastKey]).toEqual([0, true, 0, undefined]);
  });
});

describe('the key order of a pull page', () => {
  /** A page as SQLite writes it: big-endian headers. */
  function bigEndian(records: readonly PackedRecord[]): Buffer {
    const page = Buffer.from(packRecords(records));
    for (let o = 0, i = 0; i < records.length; i++) {
      for (const [at, bytes] of [[0, 4], [4, 4], [8, 8], [16, 4], [20, 4]] as const) page.subarray(o + at, o + at + bytes).reverse();
      o += packedHeaderBytes + records[i]!.key.length + records[i]!.data.length;
    }
    return page;
  }
  const r = (kk: string, rsn: number): PackedRecord => ({ key: key(kk), rsn: rsn + 2 ** 40, dmaster: 0x01020304, flags: 5, data: key(`d${kk}`) });

  test('the pass over SQLite\'s big-endian headers writes the little-endian layout and says whether the keys ascend', () => {
    const ordered = [r('a', 1), r('ab', 2), r('b', 3)];
    const page = bigEndian(ordered);
    expect(headersToLittleEndian(page)).toEqual({ records: 3, ascending: true });
    expect(plain(unpackRecords(page))).toEqual(plain(ordered));
    expect(headersToLittleEndian(bigEndian([r('b', 1), r('a', 2)]))).toEqual({ records: 2, ascending: false });
    expect(headersToLittleEndian(bigEndian([r('a', 1), r('a', 2)]))).toEqual({ records: 2, ascending: false });
    expect(headersToLittleEndian(Buffer.alloc(0))).toEqual({ records: 0, ascending: true });
  });

  test('pages built with ORDER BY in SQL (the fallback) are the same as the fast ones', () => {
    const db = openDb();
    fill(db, 1234);
    const fast = new PackedPages(db.sql);
    const ordered = new PackedPages(db.sql, true);
    let after: Uint8Array | undefined;
    for (let i = 0; i < 5; i++) {
      const a = fast.page(after, 300, 1 << 20);
      const b = ordered.page(after, 300, 1 << 20);
      expect(a).toEqual(b);
      if (a.done) break;
      after = a.lastKey;
    }
  });
});

describe('pushPacked', () => {
  test('packed pages replace the contents in the push\'s transaction, a key given twice keeping its last copy', () => {
    const db = openDb();
    fill(db, 10);
    db.beginPush();
    const a = { key: key('a'), rsn: 5, dmaster: 1, flags: 1, data: key('one') };
    const records = [a, ...Array.from({ length: 150 }, (_, i) => ({ key: k(i), rsn: i, dmaster: 2, flags: 0, data: key(`p${i}`) })), { ...a, rsn: 6, data: key('two') }];
    expect(db.pushPacked(packRecords(records.slice(0, 100)), 100)).toBe(100);
    expect(db.pushPacked(packRecords(records.slice(100)), records.length - 100)).toBe(records.length - 100);
    db.commitPush(7, true);
    const rows = db.records.pageAll(undefined, 1000);
    expect(rows).toHaveLength(151);
    expect(db.records.get(key('a'))).toMatchObject({ rsn: 6, dmaster: 1, flags: 1, data: key('two') });
    expect(db.records.get(k(149))).toMatchObject({ rsn: 149, dmaster: 2, flags: 0, data: key('p149') });
    expect(db.meta.get()).toMatchObject({ generation: 7, valid: 1 });
  });

  test('an aborted push of packed pages leaves the old contents', () => {
    const db = openDb();
    fill(db, 10);
    const before = db.records.pageAll(undefined, 100);
    db.beginPush();
    db.pushPacked(packRecords([{ key: key('z'), rsn: 1, dmaster: 0, flags: 0, data: key('z') }]), 1);
    db.abortPush();
    expect(db.records.pageAll(undefined, 100)).toEqual(before);
  });

  test('a packed page outside a push, or with another record count than given, is a broken invariant', () => {
    const db = openDb();
    const page = packRecords([{ key: key('z'), rsn: 1, dmaster: 0, flags: 0, data: key('z') }]);
    expect(() => db.pushPacked(page, 1)).toThrow(/without beginPush/);
    db.beginPush();
    expect(() => db.pushPacked(page, 2)).toThrow(/records/);
    db.abortPush();
  });
});
