// `ctdbng-cluster partition PNN` / `heal` (DESIGN §11, fault injection): cut node PNN off from
// every other node through the fault switch files the daemons re-read
// (`<base>/node.P/run/faults.json`, packages/common/src/faults.ts). The cut-off node blocks every
// other node, every other node blocks PNN, so the cut holds in both directions even before every
// daemon has seen its file. Other switches in a file (failRecovery) are kept.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { faultsPath } from '@ctdbng/common';
import { nodeDir, nodePaths } from './paths.js';

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
}

/** The switches of node `dir` other than blockedPeers; {} for a missing or malformed file. */
function otherSwitches(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
    const { blockedPeers: _dropped, ...rest } = raw as Record<string, unknown>;
    return rest;
  } catch {
    // Malformed: the daemons treat it as no faults too; it is replaced as a whole.
    return {};
  }
}

/** Replaces the file by rename: a daemon never reads half of it. No file when nothing is switched on. */
function writeFaults(path: string, faults: Record<string, unknown>): void {
  if (Object.keys(faults).length === 0) {
    rmSync(path, { force: true });
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(faults)}\n`);
  renameSync(tmp, path);
}

function faultsFile(base: string, pnn: number): string {
  return faultsPath(nodePaths.runDir(nodeDir(base, pnn)));
}

/** Cuts node `pnn` off from the other nodes `pnns` of the cluster in `base`. */
export function partitionNode(base: string, pnns: readonly number[], pnn: number): void {
  if (!pnns.includes(pnn)) throw new PartitionError(`no node ${pnn} in ${base} (nodes ${pnns.join(', ')})`);
  for (const p of pnns) {
    const path = faultsFile(base, p);
    const blockedPeers = p === pnn ? pnns.filter((q) => q !== pnn) : [pnn];
    writeFaults(path, { ...otherSwitches(path), blockedPeers });
  }
}

/** Lifts every cut of the cluster in `base` (blockedPeers); other switches stay. */
export function healNodes(base: string, pnns: readonly number[]): void {
  for (const p of pnns) {
    const path = faultsFile(base, p);
    writeFaults(path, otherSwitches(path));
  }
}
