// Node state and node flags as the client shows them (DESIGN §5, recovery.proto GetNodeState,
// SetNodeFlags): one decode from the wire message, one encode of the administrator's flag change.
import type { ctdbng } from '@ctdbng/protocol';

/** A node's view of itself and of the cluster (GetNodeState), as dbd reports it. */
export interface NodeState {
  pnn: number;
  /** Changes every time the node's dbd restarts. */
  incarnation: number;
  /** The generation of the last recovery this node took part in; 0: none yet. */
  generation: number;
  vnnmap: number[];
  stopped: boolean;
  banned: boolean;
  banRemainingSeconds: number;
  /** Cannot see a majority of the nodes (DESIGN §5.1). */
  inactive: boolean;
  /** Its dbs are frozen: a recovery is running, or the node is stopped, banned or inactive. */
  frozen: boolean;
  /** The nodes its dbd has a live link to. */
  linksUp: number[];
  /** Counts recoveries asked of this node; the leader compares it with the last one it served. */
  recoveryRequests: number;
  dbIds: number[];
  dbNames: string[];
  /** The highest recovery-leader term this dbd has seen. */
  highestTerm: number;
  /** The recovery leader as the local recoverd told dbd; null while none is known. */
  leader: number | null;
  /** Duration of the last recovery in ms; 0 before the first one. */
  lastRecoveryMs: number;
  /** When the last recovery started (Unix ms); 0 when dbd does not know. */
  recoveryStartedUnixMs: number;
  /** Configured `witness` in the nodes file: never holds records, never leads (DESIGN §1). */
  witness: boolean;
  /** Its state file was lost: it counts toward no quorum until it installs a generation (§5.4). */
  amnesiac: boolean;
  /** Its dbd's links reach a majority of the nodes file; without it nothing is recovered or served. */
  quorum: boolean;
  /** This dbd incarnation was taken in by a recovery (a restarted dbd serves nothing until then). */
  joined: boolean;
}

export function nodeStateOf(s: ctdbng.v1.NodeState): NodeState {
  return {
    pnn: s.pnn,
    incarnation: s.incarnation,
    generation: Number(s.generation),
    vnnmap: [...s.vnnmap],
    stopped: s.stopped,
    banned: s.banned,
    banRemainingSeconds: s.banRemainingSeconds,
    inactive: s.inactive,
    frozen: s.frozen,
    linksUp: [...s.linksUp],
    recoveryRequests: Number(s.recoveryRequests),
    dbIds: [...s.dbIds],
    dbNames: [...s.dbNames],
    highestTerm: Number(s.highestTerm),
    leader: s.hasLeader ? s.leader : null,
    lastRecoveryMs: Number(s.lastRecoveryMs),
    recoveryStartedUnixMs: Number(s.recoveryStartedUnixMs),
    witness: s.witness,
    amnesiac: s.amnesiac,
    quorum: s.quorum,
    joined: s.joined,
  };
}

/** One change of a node's administrative flags (ctdbng stop, continue, ban SECONDS, unban). */
export type NodeFlagsChange = { stop: true } | { cont: true } | { banSeconds: number } | { unban: true };

/** The SetNodeFlags message of a change; RangeError for a ban that is not a positive uint32. */
export function setNodeFlagsOf(change: NodeFlagsChange): ctdbng.v1.SetNodeFlags.$Properties {
  if ('banSeconds' in change) {
    const s = change.banSeconds;
    if (!Number.isInteger(s) || s < 1 || s > 0xffff_ffff) throw new RangeError(`ban of ${s} seconds: expected an integer in 1..${0xffff_ffff}`);
    return { banSeconds: s };
  }
  if ('stop' in change) return { stop: true };
  if ('cont' in change) return { cont: true };
  return { unban: true };
}
