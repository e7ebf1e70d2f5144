// When a recovery runs (DESIGN §5.2). The leader asks every node for its state every
// RecoverInterval; decideRecovery compares what came back with what the leader last installed.
// Pure: no I/O, no clock.
import { generationText } from '@ctdbng/common';
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

/**
 * The nodes a recovery led by `leader` can take part with (§1, §5.3.1): those whose dbd answered
 * and whose dbd link with the leader's dbd is up both ways (each one's linksUp names the
 * other). A node whose node messages are lost in one direction could neither renew a lease nor
 * serve its share of the records: it is left out, like a disconnected node in CTDB.
 */
export function connectedViews(views: NodeViews, leader: number): Map<number, NodeState | undefined> {
  const own = views.get(leader);
  const out = new Map<number, NodeState | undefined>();
  for (const [pnn, st] of views) {
    const linked = pnn === leader || (own !== undefined && st !== undefined && own.linksUp.includes(pnn) && st.linksUp.includes(leader));
    out.set(pnn, linked ? st : undefined);
  }
  return out;
}

/** Participants: every connected node, witnesses included. Sorted. */
export function participantPnns(views: NodeViews): number[] {
  return [...views].filter(([, st]) => st !== undefined).map(([pnn]) => pnn).sort((a, b) => a - b);
}

/** Whether a node can hold records now (§1): not stopped, banned, inactive or a witness. */
export function canBeMember(st: Pick<NodeState, 'stopped' | 'banned' | 'inactive' | 'witness'>): boolean {
  return !st.stopped && !st.banned && !st.inactive && !st.witness;
}

/** eligible = connected && able to hold records (§1). Sorted. */
export function eligiblePnns(views: NodeViews): number[] {
  const out: number[] = [];
  for (const [pnn, st] of views) if (st !== undefined && canBeMember(st)) out.push(pnn);
  return out.sort((a, b) => a - b);
}

/**
 * A recovery needs a quorum (§1): participants that are a majority of the nodes file, not
 * counting amnesiac ones (they may have forgotten the generation they installed, §5.4). When
 * every node of the nodes file takes part, nothing installed anywhere can be missed.
 */
export function hasQuorum(participants: readonly { amnesiac: boolean }[], nodesCount: number): boolean {
  const counted = participants.filter((p) => !p.amnesiac).length;
  return counted >= Math.floor(nodesCount / 2) + 1 || participants.length === nodesCount;
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
  const participants = participantPnns(views);
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
    for (const pnn of participants) {
      const st = views.get(pnn)!;
      if (Number(st.generation) !== installed.generation) why(`node ${pnn} has generation ${generationText(Number(st.generation))}, not ${generationText(installed.generation)}`);
      else if (!sameList(st.vnnmap, installed.vnnmap)) why(`node ${pnn} has another vnnmap`);
      else if (!st.joined) why(`node ${pnn} is not taken in`);
      else if (Number(st.frozenFor) !== 0) why(`node ${pnn} is frozen for a recovery`);
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
