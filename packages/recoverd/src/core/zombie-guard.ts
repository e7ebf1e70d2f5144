// No zombies (DESIGN §5.4): a node's volatile copy counts in a recovery only if the node took
// part in the cluster's current generation — its copy is valid and stamped with that generation.
// A node left out of any recovery (stopped, banned, restarted, cut off, inactive) contributes
// nothing and is wiped and refilled by the push.

export interface CopyValidity {
  valid: boolean;
  generation: number;
}

/** Whether a pulled copy takes part in the merge. Generation 0 (no recovery yet) never counts. */
export function copyCounts(copy: CopyValidity, currentGeneration: number): boolean {
  if (currentGeneration === 0) return false;
  if (!copy.valid) return false;
  return copy.generation === currentGeneration;
}

/**
 * The generation a recovery replaces. The leader knows it when it installed one itself; a new
 * leader takes its own dbd's when that is nonzero and held by at least as many eligible nodes as
 * any other; otherwise the generation most eligible nodes hold (ties: the higher number, so the
 * choice is deterministic). A freshly restarted leader dbd (generation 0) thus does not discard
 * the survivors' data.
 */
export function currentGeneration(o: { installed: number | undefined; own: number; eligible: readonly number[] }): number {
  if (o.installed !== undefined && o.installed !== 0) return o.installed;
  const counts = new Map<number, number>();
  for (const g of o.eligible) if (g !== 0) counts.set(g, (counts.get(g) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [g, n] of counts) {
    if (n > bestCount || (n === bestCount && g > best)) {
      best = g;
      bestCount = n;
    }
  }
  if (o.own !== 0 && (counts.get(o.own) ?? 0) >= bestCount) return o.own;
  return best;
}
