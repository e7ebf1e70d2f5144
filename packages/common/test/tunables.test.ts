// The one table of tunables (DESIGN §9, STYLE §2): defaults in bounds, relations, set and parse errors.
import { describe, expect, test } from 'vitest';
import {
  TUNABLES, TunableError, checkTunableRelations, defaultTunables, parseTunablesFile, setTunable, tunableRow,
} from '@ctdbng/common';

describe('tunables', () => {
  test.each(TUNABLES.map((t) => [t.name, t] as const))('the default of %s is an integer within its bounds', (_, t) => {
    expect(Number.isInteger(t.default)).toBe(true);
    expect(t.min).toBeLessThanOrEqual(t.default);
    expect(t.default).toBeLessThanOrEqual(t.max);
  });

  test('names and keys are unique and every key ends with its unit', () => {
    expect(new Set(TUNABLES.map((t) => t.name.toLowerCase())).size).toBe(TUNABLES.length);
    expect(new Set(TUNABLES.map((t) => t.key)).size).toBe(TUNABLES.length);
    const suffix = { s: 'Seconds', ms: 'Ms', count: 'Count', bytes: 'Bytes', bool: '' } as const;
    for (const t of TUNABLES) expect(t.key, t.name).toMatch(new RegExp(`${suffix[t.unit]}$`));
  });

  test('the defaults satisfy every relation', () => {
    expect(checkTunableRelations(defaultTunables())).toBeUndefined();
  });

  test('a SharedAccessLease not shorter than KeepaliveInterval × KeepaliveLimit breaks a relation', () => {
    const t = { ...defaultTunables(), keepaliveIntervalSeconds: 1, keepaliveLimitCount: 2, sharedAccessLeaseMs: 2000 };
    expect(checkTunableRelations(t)).toMatch(/SharedAccessLease/);
    expect(checkTunableRelations({ ...t, sharedAccessLeaseMs: 1999 })).toBeUndefined();
  });

  test('setTunable changes the value by its user-visible name, case-insensitively', () => {
    const values = defaultTunables();
    expect(setTunable(values, 'keepaliveinterval', 7).name).toBe('KeepaliveInterval');
    expect(values.keepaliveIntervalSeconds).toBe(7);
    expect(tunableRow('KEEPALIVELIMIT')?.key).toBe('keepaliveLimitCount');
  });

  test('setTunable of an unknown name is a TunableError', () => {
    expect(() => setTunable(defaultTunables(), 'NoSuchTunable', 1)).toThrow(TunableError);
    expect(() => setTunable(defaultTunables(), 'NoSuchTunable', 1)).toThrow(/unknown tunable 'NoSuchTunable'/);
  });

  test('setTunable out of range is a TunableError at max + 1 and fine at max', () => {
    const values = defaultTunables();
    expect(() => setTunable(values, 'HopcountWarn', 1_000_001)).toThrow(/outside 1\.\.1000000/);
    expect(() => setTunable(values, 'HopcountWarn', 0)).toThrow(TunableError);
    setTunable(values, 'HopcountWarn', 1_000_000);
    expect(values.hopcountWarnCount).toBe(1_000_000);
  });

  test('setTunable of a non-integer or NaN is a TunableError', () => {
    expect(() => setTunable(defaultTunables(), 'KeepaliveInterval', 1.5)).toThrow(/not an integer/);
    expect(() => setTunable(defaultTunables(), 'KeepaliveInterval', Number.NaN)).toThrow(/not an integer/);
  });

  test('setTunable that would break a relation is refused and leaves the value unchanged', () => {
    const values = { ...defaultTunables(), keepaliveIntervalSeconds: 1, keepaliveLimitCount: 2 };
    expect(() => setTunable(values, 'SharedAccessLease', 2000)).toThrow(/SharedAccessLease must be shorter/);
    expect(values.sharedAccessLeaseMs).toBe(defaultTunables().sharedAccessLeaseMs);
  });

  test('a tunables file sets values by name and ignores comments and blank lines', () => {
    const values = parseTunablesFile('# site settings\n\nKeepaliveInterval = 3\nKeepaliveLimit=4 # fewer\n');
    expect(values.keepaliveIntervalSeconds).toBe(3);
    expect(values.keepaliveLimitCount).toBe(4);
  });

  test('a tunables file line without = is an error naming the line', () => {
    expect(() => parseTunablesFile('KeepaliveInterval=3\nKeepaliveLimit\n')).toThrow(/tunables line 2: expected Name=value/);
  });

  test('a tunables file with a bad value is an error naming the line and the tunable', () => {
    expect(() => parseTunablesFile('\n\nKeepaliveInterval=0\n')).toThrow(/tunables line 3: KeepaliveInterval: 0 is outside/);
    expect(() => parseTunablesFile('Bogus=1\n')).toThrow(/tunables line 1: unknown tunable 'Bogus'/);
    expect(() => parseTunablesFile('KeepaliveInterval=five\n')).toThrow(/tunables line 1: .*not an integer/);
  });
});
