// FNV-1a 32 (DESIGN §1): db ids and lmasters must match what clients in other languages compute.
import { describe, expect, test } from 'vitest';
import { fnv1a32, fnv1a32String, lmasterOf } from '@ctdbng/common';

describe('fnv1a32', () => {
  test.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('fnv1a32 of %j is the published FNV-1a 32 vector', (text, expected) => {
    expect(fnv1a32String(text)).toBe(expected);
    expect(fnv1a32(Buffer.from(text, 'utf8'))).toBe(expected);
  });

  test('fnv1a32 is an unsigned 32-bit integer', () => {
    const h = fnv1a32(new Uint8Array([0xff, 0x00, 0x80, 0x7f]));
    expect(Number.isInteger(h)).toBe(true);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThan(2 ** 32);
  });
});

describe('lmasterOf', () => {
  const vnnmap = [10, 11, 12, 13, 14, 15, 16];

  test('the lmaster is vnnmap[fnv1a32(key) % vnnmap.length]', () => {
    expect(lmasterOf(Buffer.from('a'), vnnmap)).toBe(15); // 0xe40c292c % 7 = 5
    expect(lmasterOf(Buffer.from('foobar'), vnnmap)).toBe(10); // 0xbf9cf968 % 7 = 0
  });

  test('a one-node vnnmap makes that node the lmaster of every key', () => {
    expect(lmasterOf(Buffer.from('anything'), [3])).toBe(3);
  });

  test('an empty vnnmap is a RangeError', () => {
    expect(() => lmasterOf(Buffer.from('a'), [])).toThrow(RangeError);
  });
});
