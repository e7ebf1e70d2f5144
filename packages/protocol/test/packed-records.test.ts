// The packed record pages of recovery (PullDbReply.packed_records, PushDbBatch.packed_records,
// proto/ctdbng/v1/recovery.proto): the byte layout, a round trip, and every refusal of the check.
import { describe, expect, test } from 'vitest';
import {
  checkPackedPage, comparePackedKeys, comparePackedKeyWith, keyBytesMax, packedDataBytes, packedDmaster, packedFlags, packedHeaderBytes,
  packedKeyBytes, packedRecordBytes, packedRsn, packRecords, recordBytesMax, unpackRecords, writePackedHeader,
} from '@ctdbng/protocol';

const rec = (key: string, rsn: number, dmaster: number, data: string, flags = 0) => ({ key: Buffer.from(key), rsn, dmaster, flags, data: Buffer.from(data) });

describe('packed records', () => {
  test('a record is a 24-byte little-endian header (key length, data length, rsn, dmaster, flags) followed by the key and the data', () => {
    const page = Buffer.from(packRecords([rec('ab', 2 ** 40 + 0x0102, 0x0304, 'xyz', 0x0506)]));
    expect(packedHeaderBytes).toBe(24);
    expect(page.toString('hex')).toBe(
      '02000000' + '03000000' + '0201000000010000' + '04030000' + '06050000' + Buffer.from('ab').toString('hex') + Buffer.from('xyz').toString('hex'),
    );
    expect([packedKeyBytes(page, 0), packedDataBytes(page, 0), packedRsn(page, 0), packedDmaster(page, 0), packedFlags(page, 0)]).toEqual([2, 3, 2 ** 40 + 0x0102, 0x0304, 0x0506]);
    expect(packedRecordBytes(page, 0)).toBe(page.length);
  });

  test('records pack and unpack unchanged, tombstones and the largest uint32 and safe rsn included', () => {
    const records = [rec('a', 1, 0, 'one'), rec('b', Number.MAX_SAFE_INTEGER, 0xffffffff, '', 0xffffffff), rec('c', 0, 2, 'three', 1)];
    const page = packRecords(records);
    expect(page.length).toBe(records.reduce((n, r) => n + packedHeaderBytes + r.key.length + r.data.length, 0));
    expect(unpackRecords(page).map((r) => ({ ...r, key: Buffer.from(r.key), data: Buffer.from(r.data) }))).toEqual(records);
    expect(packRecords([])).toHaveLength(0);
    expect(unpackRecords(new Uint8Array(0))).toEqual([]);
  });

  test('writePackedHeader writes what the readers read', () => {
    const page = Buffer.alloc(packedHeaderBytes + 3);
    writePackedHeader(page, 0, 1, 2, 2 ** 33 + 5, 7, 9);
    expect([packedKeyBytes(page, 0), packedDataBytes(page, 0), packedRsn(page, 0), packedDmaster(page, 0), packedFlags(page, 0)]).toEqual([1, 2, 2 ** 33 + 5, 7, 9]);
  });

  test('keys compare as unsigned bytes, a prefix first, across pages and against a plain key', () => {
    const a = packRecords([rec('ab', 1, 0, 'x'), rec('abc', 1, 0, 'y'), rec('b\u00ff', 1, 0, '')]);
    const b = packRecords([rec('ab', 9, 1, 'zzz')]);
    const o1 = packedRecordBytes(a, 0);
    const o2 = o1 + packedRecordBytes(a, o1);
    expect(comparePackedKeys(a, 0, b, 0)).toBe(0);
    expect(comparePackedKeys(a, 0, a, o1)).toBe(-1);
    expect(comparePackedKeys(a, o2, a, o1)).toBe(1);
    expect(comparePackedKeyWith(a, o1, Buffer.from('abc'))).toBe(0);
    expect(comparePackedKeyWith(a, o1, Buffer.from('abd'))).toBe(-1);
    expect(comparePackedKeyWith(a, o1, Buffer.from('ab'))).toBe(1);
    // Long keys take the native compare: the same order.
    const long = (c: string) => rec(c.repeat(200), 1, 0, '');
    const l = packRecords([long('a'), long('b')]);
    expect(comparePackedKeys(l, 0, l, packedRecordBytes(l, 0))).toBe(-1);
    expect(comparePackedKeyWith(l, 0, Buffer.from('a'.repeat(201)))).toBe(-1);
  });
});

describe('checkPackedPage', () => {
  const ok = packRecords([rec('a', 1, 0, 'x'), rec('b', 2, 1, ''), rec('c', 3, 2, 'zz')]);

  test('a well-formed page passes and gives the offset of its last record', () => {
    expect(checkPackedPage(ok, { records: 3, ascending: true })).toEqual({ ok: true, lastOffset: packedRecordBytes(ok, 0) + packedRecordBytes(ok, packedRecordBytes(ok, 0)) });
    expect(checkPackedPage(ok, { records: 3, ascending: true, after: Buffer.from('') })).toMatchObject({ ok: true });
    expect(checkPackedPage(new Uint8Array(0), { records: 0, ascending: true })).toEqual({ ok: true, lastOffset: -1 });
  });

  test('a page with another number of records than announced is refused', () => {
    expect(checkPackedPage(ok, { records: 2, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('more than 2 records') });
    expect(checkPackedPage(ok, { records: 4, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('3 records, not 4') });
  });

  test('a truncated header or a record running past the end of the page is refused', () => {
    expect(checkPackedPage(ok.subarray(0, ok.length - 1), { records: 3, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('past the end') });
    expect(checkPackedPage(ok.subarray(0, 10), { records: 1, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('header') });
  });

  test('a key or data above the protocol limits is refused before it is read', () => {
    const big = Buffer.alloc(packedHeaderBytes);
    writePackedHeader(big, 0, keyBytesMax + 1, 0, 1, 0, 0);
    expect(checkPackedPage(big, { records: 1, ascending: false })).toMatchObject({ ok: false, why: expect.stringContaining('key of') });
    writePackedHeader(big, 0, 1, recordBytesMax + 1, 1, 0, 0);
    expect(checkPackedPage(big, { records: 1, ascending: false })).toMatchObject({ ok: false, why: expect.stringContaining('data of') });
    const atMax = packRecords([{ key: Buffer.alloc(keyBytesMax, 1), rsn: 1, dmaster: 0, flags: 0, data: Buffer.alloc(0) }]);
    expect(checkPackedPage(atMax, { records: 1, ascending: false })).toMatchObject({ ok: true });
  });

  test('an rsn above 2^53 is refused: it would not survive a JavaScript number', () => {
    const page = Buffer.from(packRecords([rec('a', 1, 0, 'x')]));
    page.writeUInt32LE(0x00200000, 12); // rsn = 2^53 + 1
    expect(checkPackedPage(page, { records: 1, ascending: false })).toMatchObject({ ok: false, why: expect.stringContaining('rsn') });
  });

  test('with ascending, keys out of order, repeated, or not above `after` are refused; without it they pass', () => {
    const unordered = packRecords([rec('b', 1, 0, ''), rec('a', 1, 0, '')]);
    const repeated = packRecords([rec('a', 1, 0, ''), rec('a', 2, 0, '')]);
    expect(checkPackedPage(unordered, { records: 2, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('ascending') });
    expect(checkPackedPage(repeated, { records: 2, ascending: true })).toMatchObject({ ok: false, why: expect.stringContaining('ascending') });
    expect(checkPackedPage(ok, { records: 3, ascending: true, after: Buffer.from('a') })).toMatchObject({ ok: false, why: expect.stringContaining('ascending') });
    expect(checkPackedPage(unordered, { records: 2, ascending: false })).toMatchObject({ ok: true });
  });
});
