// The static vnnmap of a local cluster, until the recovery daemon exists (DESIGN §11).
import { fnv1a32String, type NodesFile } from '@ctdbng/common';

/**
 * The generation every node of the cluster gets: a nonzero uint32 derived from the nodes file
 * hash, so a restarted dbd gets the same generation as the others.
 */
export function staticGeneration(nodesHash: number): number {
  const g = fnv1a32String(`ctdbng-static-vnnmap:${nodesHash >>> 0}`);
  return g === 0 ? 1 : g;
}

/** Every PNN that is not a deleted line of the nodes file. */
export function memberPnns(nodes: NodesFile): number[] {
  return nodes.nodes.filter((n) => !n.deleted).map((n) => n.pnn);
}

export interface VnnMapSetter {
  setVnnMap(map: { generation: number; pnns: number[] }, o?: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>;
}

/**
 * Installs the static vnnmap {generation: staticGeneration(hash), pnns: every member} on a dbd
 * that has just (re)started and answers Ping.
 *
 * The recovery daemon replaces exactly this step: once ctdbng-recoverd exists, it runs a
 * recovery that sets the vnnmap, and this function and its call in supervise-main are deleted.
 */
export async function installStaticVnnmap(client: VnnMapSetter, nodes: NodesFile, signal: AbortSignal): Promise<void> {
  await client.setVnnMap({ generation: staticGeneration(nodes.hash), pnns: memberPnns(nodes) }, { signal, timeoutMs: 5_000 });
}
