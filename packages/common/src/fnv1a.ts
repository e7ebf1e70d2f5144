// FNV-1a 32-bit (DESIGN §1): db_id = fnv1a32(name) and lmaster = vnnmap[fnv1a32(key) % len].
// Stable and documented so clients in other languages compute the same values.
const offsetBasis = 0x811c9dc5;
const prime = 0x01000193;

export function fnv1a32(bytes: Uint8Array): number {
  let h = offsetBasis;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, prime);
  }
  return h >>> 0;
}

export function fnv1a32String(s: string): number {
  return fnv1a32(Buffer.from(s, 'utf8'));
}

/** The lmaster of a key: vnnmap[hash(key) % len(vnnmap)] (DESIGN §1). */
export function lmasterOf(key: Uint8Array, vnnmap: readonly number[]): number {
  if (vnnmap.length === 0) throw new RangeError('lmaster of a key with an empty vnnmap');
  return vnnmap[fnv1a32(key) % vnnmap.length]!;
}
