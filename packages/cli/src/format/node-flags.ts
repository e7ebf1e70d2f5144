// Node flags as ctdb shows them (ctdb/tools/ctdb.c pretty_print_flags, control_nodestatus), built
// from each node's GetNodeState (DESIGN §5, §10). ctdb's bit values, so `nodestatus` exits with
// the same status as ctdb's for the same cluster; INACTIVE_ALONE is ours (see nodeFlagBits).
import type { NodeStateView } from '../client-types.js';

/**
 * Bit values of the flags (ctdb's protocol.h): DISCONNECTED 0x1, UNHEALTHY 0x2, DISABLED 0x4,
 * BANNED 0x8, DELETED 0x10, STOPPED 0x20. In ctdb INACTIVE is no bit of its own but any of
 * DISCONNECTED|BANNED|STOPPED|DELETED; ctdb-ng also has a node that is inactive on its own (it
 * cannot see a majority, §5.1): that is INACTIVE_ALONE, 0x80 (0x40 is ctdb's UNKNOWN).
 */
export const nodeFlagBits = {
  DISCONNECTED: 0x1,
  UNHEALTHY: 0x2,
  DISABLED: 0x4,
  BANNED: 0x8,
  DELETED: 0x10,
  STOPPED: 0x20,
  INACTIVE_ALONE: 0x80,
} as const;

const b = nodeFlagBits;
/** ctdb's NODE_FLAGS_INACTIVE mask, plus ours. */
const inactiveMask = b.DISCONNECTED | b.BANNED | b.STOPPED | b.DELETED | b.INACTIVE_ALONE;

/** ctdb's printing order. */
const names: readonly [number, string][] = [
  [b.DISCONNECTED, 'DISCONNECTED'],
  [b.DISABLED, 'DISABLED'],
  [b.BANNED, 'BANNED'],
  [b.UNHEALTHY, 'UNHEALTHY'],
  [b.DELETED, 'DELETED'],
  [b.STOPPED, 'STOPPED'],
  [inactiveMask, 'INACTIVE'],
];

/** The bits of a node: `state` undefined means it did not answer (DISCONNECTED). */
export function nodeBits(state: NodeStateView | undefined, deleted = false): number {
  if (deleted) return b.DELETED;
  if (state === undefined) return b.DISCONNECTED;
  let bits = 0;
  if (state.banned) bits |= b.BANNED;
  if (state.stopped) bits |= b.STOPPED;
  if (state.inactive) bits |= b.INACTIVE_ALONE;
  return bits;
}

/**
 * ["OK"] or e.g. ["STOPPED", "INACTIVE"], in ctdb's order; a node configured `witness` shows
 * WITNESS (instead of OK) without a bit of its own: it is healthy, it just holds no records.
 */
export function flagNames(bits: number, witness = false): string[] {
  const out = names.filter(([mask]) => (bits & mask) !== 0).map(([, name]) => name);
  if (witness) out.push('WITNESS');
  return out.length === 0 ? ['OK'] : out;
}
