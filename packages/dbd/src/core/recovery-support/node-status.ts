// What this node is (DESIGN §5): frozen for a recovery, inactive (no majority), stopped, banned;
// the highest leader term seen (a lower one is refused), recovery requests, the leader.
import { ErrorCode, type EnvelopeInit } from '@ctdbng/protocol';

export class NodeStatus {
  /** Recovery controls with a lower term come from a deposed leader (§5.1). */
  highestTerm = 0;
  frozen = false;
  /** The generation the freeze was for; record messages of any other generation are dropped. */
  freezeGeneration = 0;
  inactive = false;
  stopped = false;
  bannedUntilNs = 0;
  /** Rises on every reason for a recovery; the leader compares it with the last value it saw. */
  recoveryRequests = 0;
  leader: number | undefined = undefined;
  lastRecoveryMs = 0;
  /** Host monotonic time of the last thaw (0: none yet). */
  lastRecoveryEndNs = 0;

  banned(nowNs: number): boolean {
    return this.bannedUntilNs > nowNs;
  }

  /** The error for a record operation on a node that does not serve records now, if any. */
  refusal(nowNs: number): EnvelopeInit | undefined {
    if (this.banned(nowNs)) return { error: { code: ErrorCode.ERR_BANNED, message: 'this node is banned' } };
    if (this.stopped) return { error: { code: ErrorCode.ERR_STOPPED, message: 'this node is stopped' } };
    if (this.inactive) return { error: { code: ErrorCode.ERR_INACTIVE, message: 'this node cannot see a majority of the cluster' } };
    return undefined;
  }

  /** Accepts a recovery control's term (raising the highest seen) or returns the refusal. */
  acceptTerm(term: number): EnvelopeInit | undefined {
    if (term < this.highestTerm) {
      return { error: { code: ErrorCode.ERR_STALE_TERM, message: `term ${term} is older than ${this.highestTerm}` } };
    }
    this.highestTerm = term;
    return undefined;
  }
}
