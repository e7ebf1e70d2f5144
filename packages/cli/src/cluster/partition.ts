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

/** A change of node PNN's own switches (`ctdbng-cluster fault`); blockedPeers belongs to partition/heal. */
export interface FaultChange {
  /** dbd answers only this recovery control with ERR_INTERNAL (freeze, pullDb, pushDbCommit, installGeneration, thaw, ...). */
  failStep?: string;
  /** dbd drops its outbound node messages to these nodes (one direction of a cut). */
  oneWayOut?: number[];
  /** dbd drops the node messages it receives from these nodes. */
  oneWayIn?: number[];
  /** vacuumd stops after this phase (storeTombstone, tryDelete) until the file changes again. */
  pauseAfter?: string;
  /** Removes every switch of the node but blockedPeers. */
  clear?: boolean;
}

export const recoveryStepNames = ['freeze', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw'] as const;
export const vacuumPausePoints = ['storeTombstone', 'tryDelete'] as const;

/** Writes node `pnn`'s fault switches in the cluster in `base`. */
export function setNodeFaults(base: string, pnns: readonly number[], pnn: number, change: FaultChange): void {
  if (!pnns.includes(pnn)) throw new PartitionError(`no node ${pnn} in ${base} (nodes ${pnns.join(', ')})`);
  if (change.failStep !== undefined && !(recoveryStepNames as readonly string[]).includes(change.failStep)) {
    throw new PartitionError(`--fail-step ${change.failStep}: expected one of ${recoveryStepNames.join(', ')}`);
  }
  if (change.pauseAfter !== undefined && !(vacuumPausePoints as readonly string[]).includes(change.pauseAfter)) {
    throw new PartitionError(`--pause-after ${change.pauseAfter}: expected one of ${vacuumPausePoints.join(', ')}`);
  }
  for (const p of [...(change.oneWayOut ?? []), ...(change.oneWayIn ?? [])]) {
    if (!pnns.includes(p) || p === pnn) throw new PartitionError(`no other node ${p} in ${base}`);
  }
  const path = faultsFile(base, pnn);
  const raw = change.clear === true ? {} : otherSwitches(path);
  const blocked = readBlocked(path);
  const oneWay = { ...((raw['oneWay'] as Record<string, unknown> | undefined) ?? {}) };
  if (change.oneWayOut !== undefined) oneWay['dropTo'] = change.oneWayOut;
  if (change.oneWayIn !== undefined) oneWay['dropFrom'] = change.oneWayIn;
  const next: Record<string, unknown> = { ...raw };
  if (change.failStep !== undefined) next['failStep'] = change.failStep;
  if (change.pauseAfter !== undefined) next['pauseAfter'] = change.pauseAfter;
  if (Object.keys(oneWay).length > 0) next['oneWay'] = oneWay;
  if (blocked !== undefined) next['blockedPeers'] = blocked;
  writeFaults(path, next);
}

function readBlocked(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { blockedPeers?: unknown }).blockedPeers;
  } catch {
    // Malformed: written anew without it.
    return undefined;
  }
}
