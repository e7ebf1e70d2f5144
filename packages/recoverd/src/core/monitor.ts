// When a recovery runs (DESIGN §5.2). The leader asks every node for its state every
// RecoverInterval; decideRecovery compares what came back with what the leader last installed.
// Pure: no I/O, no clock.
import type { NodeState } from './io.js';

/** What the leader remembers between monitor passes (reset when it becomes leader). */
export interface LeaderMemory {
  /** The generation and vnnmap the leader last installed (or found on its own dbd on taking over). */
  installed: { generation: number; vnnmap: readonly number[] } | undefined;
  /** recovery_requests per node as last served, with the dbd incarnation it belongs to. */
  requestsServed: Map<number, { incarnation: number; count: number }>;
  /** A reason to recover whatever the states say (a new leader, `ctdbng recover` seen). */
  forced: string | undefined;
}

export function newLeaderMemory(): LeaderMemory {
  return { installed: undefined, requestsServed: new Map(), forced: 'new leader' };
}

/** Node states of one pass: undefined = the node did not answer (not connected). */
export type NodeViews = ReadonlyMap<number, NodeState | undefined>;

/** eligible = connected (answered) && !stopped && !banned && !inactive (§1). Sorted. */
export function eligiblePnns(views: NodeViews): number[] {
  const out: number[] = [];
  for (const [pnn, st] of views) if (st !== undefined && !st.stopped && !st.banned && !st.inactive) out.push(pnn);
  return out.sort((a, b) => a - b);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface Decision {
  /** Empty when no recovery is needed. */
  reasons: string[];
  eligible: number[];
}

/** Bound on the reasons listed (a 254-node cluster could list every node several times). */
export const reasonsMax = 16;

export function decideRecovery(views: NodeViews, memory: LeaderMemory): Decision {
  const eligible = eligiblePnns(views);
  const reasons: string[] = [];
  const why = (r: string): void => {
    if (reasons.length < reasonsMax) reasons.push(r);
  };
  if (memory.forced !== undefined) why(memory.forced);
  const installed = memory.installed;
  if (installed === undefined) why('no generation installed');
  else {
    const members = [...installed.vnnmap].sort((a, b) => a - b);
    if (!sameList(members, eligible)) why(`eligible nodes [${eligible.join(',')}] differ from the vnnmap [${members.join(',')}]`);
    for (const pnn of eligible) {
      const st = views.get(pnn)!;
      if (st.generation !== installed.generation) why(`node ${pnn} has generation ${st.generation}, not ${installed.generation}`);
      else if (!sameList(st.vnnmap, installed.vnnmap)) why(`node ${pnn} has another vnnmap`);
      else if (st.frozen) why(`node ${pnn} is frozen`);
    }
  }
  for (const [pnn, st] of views) {
    if (st === undefined) continue;
    const served = memory.requestsServed.get(pnn);
    if (served !== undefined && served.incarnation === st.incarnation && st.recoveryRequests > served.count) {
      why(`node ${pnn} asked for a recovery`);
    }
  }
  for (const missing of missingDbs(views, eligible)) why(missing);
  return { reasons, eligible };
}

/** "db X is not attached on node P" for every db attached somewhere among the eligible nodes but not everywhere. */
export function missingDbs(views: NodeViews, eligible: readonly number[]): string[] {
  const all = new Map<number, string>();
  for (const pnn of eligible) {
    const st = views.get(pnn)!;
    st.dbIds.forEach((id, i) => all.set(id, st.dbNames[i] ?? `0x${id.toString(16)}`));
  }
  const out: string[] = [];
  for (const pnn of eligible) {
    const have = new Set(views.get(pnn)!.dbIds);
    for (const [id, name] of all) if (!have.has(id)) out.push(`db ${name} is not attached on node ${pnn}`);
  }
  return out;
}

/** After a successful recovery planned from `views`: those requests are served. */
export function noteServed(memory: LeaderMemory, views: NodeViews, installed: { generation: number; vnnmap: readonly number[] }): void {
  memory.installed = { generation: installed.generation, vnnmap: [...installed.vnnmap] };
  memory.forced = undefined;
  for (const [pnn, st] of views) {
    if (st !== undefined) memory.requestsServed.set(pnn, { incarnation: st.incarnation, count: st.recoveryRequests });
  }
}

/** The highest term any dbd has accepted (a leader below it has been deposed). */
export function highestTerm(views: NodeViews): number {
  let t = 0;
  for (const st of views.values()) if (st !== undefined && st.highestTerm > t) t = st.highestTerm;
  return t;
}
