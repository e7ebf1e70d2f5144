// Every node's state as the CLI sees it (DESIGN §5, §10): the node map of one node for the
// addresses, then GetNodeState of each node through the local dbd. A node that does not answer is
// DISCONNECTED. Shared by status, nodestatus and the commands that wait for a recovery.
import type { CliClient, NodeMapEntry, NodeOpts, NodeStateView } from '../client-types.js';
import { flagNames, nodeBits } from '../format/node-flags.js';
import { CommandError } from './types.js';

export interface NodeView {
  entry: NodeMapEntry;
  /** undefined: the node did not answer. */
  state: NodeStateView | undefined;
  bits: number;
}

export interface ClusterView {
  /** The node the view is taken from (-n PNN, else the local one). */
  pnn: number;
  self: NodeStateView;
  nodes: NodeView[];
}

/** The request options for node `pnn`: no target_pnn for the local node. */
export function optsFor(client: CliClient, node: NodeOpts, pnn: number): NodeOpts {
  const { pnn: _ignored, ...rest } = node;
  return pnn === client.pnn ? rest : { ...rest, pnn };
}

/** GetNodeState of node `pnn`, or undefined when it does not answer (any error: it is DISCONNECTED). */
export async function tryNodeState(client: CliClient, node: NodeOpts, pnn: number): Promise<NodeStateView | undefined> {
  try {
    return await client.getNodeState(optsFor(client, node, pnn));
  } catch {
    return undefined; // shown as DISCONNECTED; a failure of the viewing node itself fails the command
  }
}

/** Every node of the viewing node's map with its state and flags; fails if the viewing node does not answer. */
export async function clusterView(client: CliClient, node: NodeOpts): Promise<ClusterView> {
  const [map, self] = await Promise.all([client.getNodeMap(node), client.getNodeState(node)]);
  const nodes = await Promise.all(map.nodes.map(async (entry): Promise<NodeView> => {
    const deleted = entry.flags.includes('DELETED');
    const state = deleted ? undefined : entry.pnn === map.pnn ? self : await tryNodeState(client, node, entry.pnn);
    const bits = nodeBits(state, deleted);
    return { entry: { ...entry, flags: flagNames(bits, state?.witness === true) }, state, bits };
  }));
  return { pnn: map.pnn, self, nodes };
}

/** The node map entries with the flags of the view (what status prints). */
export function viewEntries(v: ClusterView): NodeMapEntry[] {
  return v.nodes.map((n) => n.entry);
}

export const waitPollIntervalMs = 50;

/**
 * Calls `probe` every waitPollIntervalMs until it returns a value; CommandError naming `what`
 * after `waitMs`. A probe that throws ends the wait with its error.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, waitMs: number, what: string): Promise<T> {
  const deadlineMs = Date.now() + waitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadlineMs) throw new CommandError(`timed out after ${waitMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, waitPollIntervalMs));
  }
}
