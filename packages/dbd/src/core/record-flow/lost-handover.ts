// A lost hand-over (DESIGN §2.1.9): an lmaster redirects a call to the dmaster it recorded; if
// that node is not dmaster it sends the call back to the lmaster. A migration that passed
// through meanwhile changes the lmaster's copy first (the old dmaster's DmasterRequest travels
// the same link, in order), so a call that comes back while the lmaster's copy has the same rsn
// and dmaster means the hand-over was lost: the call would bounce for ever. The lmaster asks for
// a recovery instead (and lets the call go: its origin re-sends it after the thaw).
import type { StoredRecord } from '@ctdbng/store';

/** Redirects remembered at most (the oldest are forgotten: a bounce is seen within a few hops). */
export const redirectsRememberedMax = 10_000;

export class RedirectMemory {
  private readonly seen = new Map<string, { rsn: number; dmaster: number }>();

  /**
   * The lmaster redirects call (origin, callId) to the dmaster its copy names. True when it
   * already redirected that call at this very copy: the hand-over was lost.
   */
  bouncedBack(origin: number, callId: number, rec: StoredRecord): boolean {
    const k = `${origin}:${callId}`;
    const prev = this.seen.get(k);
    this.seen.delete(k);
    if (prev !== undefined && prev.rsn === rec.rsn && prev.dmaster === rec.dmaster) return true;
    this.seen.set(k, { rsn: rec.rsn, dmaster: rec.dmaster });
    if (this.seen.size > redirectsRememberedMax) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }
}
