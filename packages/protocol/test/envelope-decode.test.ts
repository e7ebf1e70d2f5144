// decodeEnvelope turns every bad frame into a typed ProtocolError and never throws (DESIGN §7).
import { describe, expect, test } from 'vitest';
import { decodeEnvelope, encodeEnvelope, ErrorCode, ProtocolError } from '@ctdbng/protocol';

/** mulberry32: a small seeded PRNG, so a failing buffer can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('decodeEnvelope', () => {
  test('random bytes never throw and give ERR_BAD_MESSAGE, ERR_VERSION or ERR_UNKNOWN_TYPE', () => {
    const seed = 0x5eed;
    const random = prng(seed);
    const allowed: number[] = [ErrorCode.ERR_BAD_MESSAGE, ErrorCode.ERR_VERSION, ErrorCode.ERR_UNKNOWN_TYPE];
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const frame = new Uint8Array(Math.floor(random() * 64));
      for (let j = 0; j < frame.length; j++) frame[j] = Math.floor(random() * 256);
      // Half the corpus starts with "version = 1" so the decoder gets past the version check.
      if (frame.length >= 2 && random() < 0.5) frame.set([0x08, 0x01]);
      const result = decodeEnvelope(frame);
      if (result.ok) continue; // random bytes may spell a valid envelope; that is no failure
      expect(result.error, `seed ${seed}, buffer ${i}`).toBeInstanceOf(ProtocolError);
      expect(allowed, `seed ${seed}, buffer ${i}: code ${result.error.code}`).toContain(result.error.code);
      seen.add(result.error.code);
    }
    // The corpus reaches each of the three refusals, so the test exercises all three paths.
    expect([...seen].sort()).toEqual([...allowed].sort());
  });

  test('a frame of exactly bytesMax decodes', () => {
    const frame = encodeEnvelope({ requestId: 3, sendMessage: { destPnn: 1, srvid: 2, data: new Uint8Array(100) } });
    expect(decodeEnvelope(frame, frame.length).ok).toBe(true);
  });

  test('a frame of bytesMax + 1 gives ERR_TOO_LARGE', () => {
    const frame = encodeEnvelope({ requestId: 3, sendMessage: { destPnn: 1, srvid: 2, data: new Uint8Array(100) } });
    const result = decodeEnvelope(frame, frame.length - 1);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(ErrorCode.ERR_TOO_LARGE);
  });

  test('a wrong version gives ERR_VERSION and keeps the request id', () => {
    const result = decodeEnvelope(encodeEnvelope({ version: 2, requestId: 77, ping: {} }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCode.ERR_VERSION);
    expect(result.error.requestId).toBe(77);
  });

  test('an envelope without a body gives ERR_UNKNOWN_TYPE and keeps the request id', () => {
    const result = decodeEnvelope(encodeEnvelope({ requestId: 5 }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCode.ERR_UNKNOWN_TYPE);
    expect(result.error.requestId).toBe(5);
  });

  test('a truncated envelope gives ERR_BAD_MESSAGE', () => {
    const frame = encodeEnvelope({ requestId: 5, fetch: { dbId: 1, key: new Uint8Array(40) } });
    const result = decodeEnvelope(frame.subarray(0, frame.length - 10));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(ErrorCode.ERR_BAD_MESSAGE);
  });
});
