// Fault injection for tests (DESIGN §1 "cut off" and §5.3.4 "fails recovery"): a switch in the
// transports, not in the protocol logic. `$CTDBNG_BASE/run/faults.json`, written by
// `ctdbng-cluster partition|heal|fault`, is re-read when it changes:
//   { "blockedPeers": [2], "failRecovery": true, "failStep": "installGeneration",
//     "oneWay": { "dropTo": [0, 1], "dropFrom": [] }, "pauseAfter": "storeTombstone" }
// blockedPeers: every message to or from these nodes is dropped, by dbd (node links) and recoverd
// (peer links and controls to their dbd) alike — the node is cut off in both directions.
// failRecovery: dbd answers every recovery step with ERR_INTERNAL.
// failStep: dbd answers only that recovery control (its envelope body name: freeze, pullDb,
// pushDbStart, pushDbBatch, pushDbCommit, installGeneration, thaw) with ERR_INTERNAL.
// oneWay: dbd drops only its outbound node messages to dropTo, or only the inbound ones from
// dropFrom (one direction of a cut; recoverd's links are untouched).
// pauseAfter: vacuumd stops after that vacuum phase (storeTombstone or tryDelete) of a batch
// until the file changes.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type VacuumPausePoint = 'storeTombstone' | 'tryDelete';

export interface Faults {
  blockedPeers: ReadonlySet<number>;
  failRecovery: boolean;
  failStep: string | undefined;
  dropTo: ReadonlySet<number>;
  dropFrom: ReadonlySet<number>;
  pauseAfter: VacuumPausePoint | undefined;
}

export const noFaults: Faults = { blockedPeers: new Set(), failRecovery: false, failStep: undefined, dropTo: new Set(), dropFrom: new Set(), pauseAfter: undefined };

function pnnSet(v: unknown): Set<number> {
  return new Set(Array.isArray(v) ? v.filter((p): p is number => Number.isInteger(p)) : []);
}

export function faultsPath(runDir: string): string {
  return join(runDir, 'faults.json');
}

export function parseFaults(text: string): Faults {
  const raw = JSON.parse(text) as { blockedPeers?: unknown; failRecovery?: unknown; failStep?: unknown; oneWay?: { dropTo?: unknown; dropFrom?: unknown }; pauseAfter?: unknown };
  return {
    blockedPeers: pnnSet(raw.blockedPeers),
    failRecovery: raw.failRecovery === true,
    failStep: typeof raw.failStep === 'string' && raw.failStep !== '' ? raw.failStep : undefined,
    dropTo: pnnSet(raw.oneWay?.dropTo),
    dropFrom: pnnSet(raw.oneWay?.dropFrom),
    pauseAfter: raw.pauseAfter === 'storeTombstone' || raw.pauseAfter === 'tryDelete' ? raw.pauseAfter : undefined,
  };
}

/** How often a daemon re-reads its faults file at most (tests wait this long for a switch to hold). */
export const faultSwitchPollMs = 50;

/** Re-reads the faults file at most every pollMs (checks its mtime); a missing or bad file means none. */
export class FaultSwitch {
  private current: Faults = noFaults;
  private mtimeMs = -1;
  private checkedMs = 0;

  constructor(private readonly path: string, private readonly pollMs = faultSwitchPollMs) {}

  get(): Faults {
    const now = performance.now();
    if (now - this.checkedMs < this.pollMs) return this.current;
    this.checkedMs = now;
    // No exception for a missing file (the usual case, checked on every message at most every
    // pollMs): building one per check was a visible share of an idle daemon's CPU.
    let mtime: number | undefined;
    try {
      mtime = statSync(this.path, { throwIfNoEntry: false })?.mtimeMs;
    } catch {
      mtime = undefined; // unreadable (permissions): as no file
    }
    if (mtime === undefined) {
      // No file: no faults.
      this.mtimeMs = -1;
      this.current = noFaults;
      return this.current;
    }
    if (mtime !== this.mtimeMs) {
      this.mtimeMs = mtime;
      try {
        this.current = parseFaults(readFileSync(this.path, 'utf8'));
      } catch {
        // Half-written or malformed: keep what we had; the writer renames a whole file in.
      }
    }
    return this.current;
  }

  blocked(pnn: number): boolean {
    return this.get().blockedPeers.has(pnn);
  }

  /** A node message to `pnn` is dropped (cut off, or the outbound half of a one-way cut). */
  dropsTo(pnn: number): boolean {
    const f = this.get();
    return f.blockedPeers.has(pnn) || f.dropTo.has(pnn);
  }

  /** A node message from `pnn` is dropped (cut off, or the inbound half of a one-way cut). */
  dropsFrom(pnn: number): boolean {
    const f = this.get();
    return f.blockedPeers.has(pnn) || f.dropFrom.has(pnn);
  }

  /** The file's modification time (0 when absent): a pause lasts until it changes. */
  version(): number {
    this.get();
    return Math.max(0, this.mtimeMs);
  }
}
