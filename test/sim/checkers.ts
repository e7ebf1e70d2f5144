// Invariant checkers (issue 11), run after every step of a simulation. Each returns the
// violations it sees, one line each; an empty list is a pass. They read the daemons' state
// through NodeView only.
import type { Model } from './model.js';

export interface CopyView {
  key: string;
  rsn: number;
  dmaster: number;
  /** '' for a tombstone. */
  data: string;
}

export interface NodeView {
  readonly pnn: number;
  /** dbd runs, holds a valid lease and is not frozen: it serves records now (§2.2). */
  serving(): boolean;
  /** dbd runs, took part in its installed generation and is thawed: its copies are that generation's. */
  settledIn(): number | undefined;
  copies(): CopyView[];
}

/** 1. No two nodes can both write one record: both serving and both dmaster of it (§2.2). */
export function twoWriters(nodes: readonly NodeView[]): string[] {
  const owner = new Map<string, number>();
  const out: string[] = [];
  for (const n of nodes) {
    if (!n.serving()) continue;
    for (const c of n.copies()) {
      if (c.dmaster !== n.pnn) continue;
      const other = owner.get(c.key);
      if (other !== undefined) out.push(`two writers of ${c.key}: nodes ${other} and ${n.pnn} both serve it as dmaster`);
      owner.set(c.key, n.pnn);
    }
  }
  return out;
}

/** 2. A value a completed vacuuming deleted is never served again (§5.4). */
export function resurrections(nodes: readonly NodeView[], model: Model): string[] {
  const out: string[] = [];
  const dead = new Map<string, ReadonlySet<string>>();
  for (const n of nodes) {
    if (!n.serving()) continue;
    for (const c of n.copies()) {
      if (c.dmaster !== n.pnn || c.data === '') continue;
      let d = dead.get(c.key);
      if (d === undefined) {
        d = model.deadValues(c.key);
        dead.set(c.key, d);
      }
      if (d.has(c.data)) out.push(`zombie: node ${n.pnn} serves ${c.key}=${c.data}, deleted and vacuumed`);
    }
  }
  return out;
}

/** 5. The dmaster's copy has strictly the highest rsn among the copies of its generation (§2.1.5). */
export function dmasterNewest(nodes: readonly NodeView[]): string[] {
  const byGen = new Map<number, NodeView[]>();
  for (const n of nodes) {
    const g = n.settledIn();
    if (g === undefined) continue;
    const group = byGen.get(g);
    if (group === undefined) byGen.set(g, [n]);
    else group.push(n);
  }
  const out: string[] = [];
  for (const group of byGen.values()) {
    if (group.length < 2) continue;
    // The first node (in pnn order) whose copy names itself is the key's owner.
    const owners = new Map<string, { pnn: number; rsn: number; data: string }>();
    for (const n of group) for (const c of n.copies()) if (c.dmaster === n.pnn && !owners.has(c.key)) owners.set(c.key, { pnn: n.pnn, rsn: c.rsn, data: c.data });
    for (const n of group) {
      for (const c of n.copies()) {
        const owner = owners.get(c.key);
        if (owner === undefined || owner.pnn === n.pnn || c.rsn < owner.rsn) continue;
        // The tombstone copies vacuuming placed (§4.3a) carry the dmaster's rsn and name it, and
        // are identical to its copy: while that is still the tombstone. Data stored into it
        // raises the dmaster's rsn (packages/store records.ts rsnOfStore); a tombstone copy at
        // the rsn of the dmaster's data is two different copies at one rsn, which a recovery
        // failing part-way could no longer tell apart (seed 4002174 lost a write so).
        if (c.rsn === owner.rsn && c.data === '' && owner.data === '' && c.dmaster === owner.pnn) continue;
        out.push(`${c.key}: node ${n.pnn}'s copy (rsn ${c.rsn}) is not older than dmaster ${owner.pnn}'s (rsn ${owner.rsn})`);
      }
    }
  }
  return out;
}

/** 4. At most one leader per term: `seen` maps term → leader, `now` are the leaders of this step. */
export function leadersPerTerm(seen: Map<number, number>, now: readonly { pnn: number; term: number }[]): string[] {
  const out: string[] = [];
  for (const l of now) {
    const had = seen.get(l.term);
    if (had !== undefined && had !== l.pnn) out.push(`term ${l.term} has two leaders: ${had} and ${l.pnn}`);
    else seen.set(l.term, l.pnn);
  }
  return out;
}

/** 3. At the end, every key holds a value the acknowledged writes allow (§5.4). */
export function lostWrites(final: ReadonlyMap<string, string>, model: Model): string[] {
  const out: string[] = [];
  for (const key of model.keys()) {
    const allowed = model.allowedFinal(key);
    const v = final.get(key) ?? '';
    if (!allowed.has(v)) out.push(`${key}=${v === '' ? '(absent)' : v} at the end; allowed: ${[...allowed].map((a) => (a === '' ? '(absent)' : a)).join(', ')}`);
  }
  return out;
}

/**
 * 6. A generation is installed only with a quorum: its participants (witnesses included) are a
 * majority of the nodes file (§1, §5.3 step 1). Checked once per generation, when the first dbd
 * installs it.
 */
export function generationQuorum(generation: number, participants: readonly number[], nodesCount: number): string[] {
  if (participants.length >= Math.floor(nodesCount / 2) + 1) return [];
  return [`generation ${generation} installed with participants [${participants.join(',')}]: not a majority of the ${nodesCount} nodes`];
}
