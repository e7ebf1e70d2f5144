// No zombies (DESIGN §5.4): a node's volatile copy counts in a recovery only if it is as new as
// the newest generation any participant has installed. The leader reads, from the freeze replies
// of every participant (never from its own node alone), each node's installed generation and
// each copy's generation and validity; G_max is the highest installed generation, and exactly
// the valid copies of a generation ≥ G_max are merged. A node left out of any generation that
// served — stopped, banned, restarted (copies wiped), cut off while the others recovered — has
// an older copy generation and contributes nothing; it is wiped and refilled by the push.
import type { BodyOf } from '@ctdbng/protocol';

export type FreezeReply = BodyOf<'freezeReply'>;

export interface CopyValidity {
  valid: boolean;
  generation: number;
}

/** G_max: the highest generation any participant has installed (0 = none ever). */
export function highestInstalled(replies: Iterable<FreezeReply>): number {
  let g = 0;
  for (const r of replies) g = Math.max(g, Number(r.installedGeneration));
  return g;
}

/** Whether a copy takes part in the merge. With G_max 0 (no generation ever served) nothing counts. */
export function copyCounts(copy: CopyValidity, gMax: number): boolean {
  return gMax !== 0 && copy.valid && copy.generation >= gMax;
}

/** The participants whose copy of db `dbId` counts, per their freeze replies. */
export function countingHolders(replies: readonly FreezeReply[], dbId: number, gMax: number): number[] {
  return replies
    .filter((r) => r.dbs.some((d) => d.dbId === dbId && copyCounts({ valid: d.valid === true, generation: Number(d.generation) }, gMax)))
    .map((r) => r.pnn)
    .sort((a, b) => a - b);
}
