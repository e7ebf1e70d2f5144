// What this node is (DESIGN §5): the generation it installed and the one a recovery froze it
// for, whether this incarnation has been taken in, inactive (no majority), stopped, banned; the
// highest leader term seen (a lower one is refused), recovery requests, the leader.
// installedGeneration, highestTerm, frozenFor and amnesiac are kept in the node state file
// (io.nodeState) and written before any reply that depends on them (§5.4).
import { ErrorCode, type EnvelopeInit } from '@ctdbng/protocol';
import type { NodeStateRecord } from '../io.js';

export class NodeStatus {
  /** Recovery controls with a lower term come from a deposed leader (§5.1). Persisted. */
  highestTerm = 0;
  /** The generation installed on this node, in this or an earlier incarnation. Persisted. */
  installedGeneration = 0;
  /** The last generation a recovery froze this node for (0 after its thaw). Persisted. */
  frozenFor = 0;
  /** The state file was lost: this node counts toward no quorum until it installs a generation. Persisted. */
  amnesiac = false;
  /**
   * The generation a recovery froze this incarnation for (0 = none): push, install and thaw
   * are accepted only for it, and record messages of any other generation are dropped.
   */
  recoveryFreeze = 0;
  /**
   * This incarnation was taken in by a recovery (installed and thawed). A dbd starts as a
   * stranger, and a stop, ban or inactivity makes it one again until the next recovery.
   */
  joined = false;
  /** (pnn → incarnation) of every participant of the installed generation, this incarnation. */
  participants = new Map<number, number>();
  inactive = false;
  stopped = false;
  bannedUntilNs = 0;
  /** Rises on every reason for a recovery; the leader compares it with the last value it saw. */
  recoveryRequests = 0;
  leader: number | undefined = undefined;
  lastRecoveryMs = 0;
  /** Host monotonic time of the last thaw (0: none yet). */
  lastRecoveryEndNs = 0;

  restore(s: NodeStateRecord): void {
    this.highestTerm = s.highestTerm;
    this.installedGeneration = s.installedGeneration;
    this.frozenFor = s.frozenFor;
    this.amnesiac = s.amnesiac;
  }

  persisted(): NodeStateRecord {
    return { installedGeneration: this.installedGeneration, highestTerm: this.highestTerm, frozenFor: this.frozenFor, amnesiac: this.amnesiac };
  }

  banned(nowNs: number): boolean {
    return this.bannedUntilNs > nowNs;
  }

  /** Frozen for records: nothing is served, shared access falls back (meta.frozen). */
  frozen(nowNs: number): boolean {
    return !this.joined || this.recoveryFreeze !== 0 || this.stopped || this.inactive || this.banned(nowNs);
  }

  /** The error for a record operation on a node that does not serve records now, if any. */
  refusal(nowNs: number): EnvelopeInit | undefined {
    if (this.banned(nowNs)) return { error: { code: ErrorCode.ERR_BANNED, message: 'this node is banned' } };
    if (this.stopped) return { error: { code: ErrorCode.ERR_STOPPED, message: 'this node is stopped' } };
    if (this.inactive) return { error: { code: ErrorCode.ERR_INACTIVE, message: 'this node cannot see a majority of the cluster' } };
    return undefined;
  }

  /** A participant of the installed generation, in the incarnation that took part. */
  isParticipant(pnn: number, incarnation: number): boolean {
    return this.participants.get(pnn) === incarnation;
  }
}
