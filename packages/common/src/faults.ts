// Fault injection for tests (DESIGN §1 "cut off" and §5.3.4 "fails recovery"): a switch in the
// node transport, not in the protocol logic. `$CTDBNG_BASE/run/faults.json`, written by
// `ctdbng-cluster partition|heal|fault`, is re-read when it changes:
//   { "blockedPeers": [2], "failRecovery": true }
// blockedPeers: every message to or from these nodes is dropped, by dbd (node links) and recoverd
// (peer links and controls to their dbd) alike — the node is cut off in both directions.
// failRecovery: dbd answers every recovery step with ERR_INTERNAL.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Faults {
  blockedPeers: ReadonlySet<number>;
  failRecovery: boolean;
}

export const noFaults: Faults = { blockedPeers: new Set(), failRecovery: false };

export function faultsPath(runDir: string): string {
  return join(runDir, 'faults.json');
}

export function parseFaults(text: string): Faults {
  const raw = JSON.parse(text) as { blockedPeers?: unknown; failRecovery?: unknown };
  const peers = Array.isArray(raw.blockedPeers) ? raw.blockedPeers.filter((p): p is number => Number.isInteger(p)) : [];
  return { blockedPeers: new Set(peers), failRecovery: raw.failRecovery === true };
}

/** Re-reads the faults file at most every pollMs (checks its mtime); a missing or bad file means none. */
export class FaultSwitch {
  private current: Faults = noFaults;
  private mtimeMs = -1;
  private checkedMs = 0;

  constructor(private readonly path: string, private readonly pollMs = 50) {}

  get(): Faults {
    const now = performance.now();
    if (now - this.checkedMs < this.pollMs) return this.current;
    this.checkedMs = now;
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
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
}
