// @ctdbng/cli: the `ctdbng` and `ctdbng-cluster` tools, and startCluster() for tests, which runs
// the same code as `ctdbng-cluster up` (DESIGN §11).
import { resolve } from 'node:path';
import { connect, type Client } from '@ctdbng/client';
import type { LogLevel } from '@ctdbng/common';
import { down, heal, killDaemon, notReadyReport, partition, up } from './cluster/cluster.js';
import { nodeDir, tunablesFileText } from './cluster/layout.js';
import { NodeNotReadyError, tailLines } from './cluster/readiness.js';

export { runCtdbng, type CtdbngIo } from './cli/run.js';
export { COMMANDS } from './commands/index.js';
export { clusterStatus, type NodeStatus } from './cluster/status.js';
export { DAEMONS } from './cluster/daemons.js';
export { ClusterError } from './cluster/cluster.js';

export interface StartClusterOptions {
  nodes: number;
  base: string;
  /** Node port; recoverd + 1, metrics + 2..+4. Give each concurrent cluster its own. */
  portBase?: number;
  tunables?: Record<string, number>;
  /** Take down and remove what is in `base` first. */
  fresh?: boolean;
  logLevel?: LogLevel;
  /**
   * `[cluster] cluster lock` written into every node's ctdbng.conf: a file path, `etcd://host:port/key`
   * or `!command` (packages/recoverd README). None by default.
   */
  clusterLock?: string;
  /** Nodes configured `witness` in the nodes file (DESIGN §1). */
  witnesses?: readonly number[];
  timeoutMs?: number;
}

export interface Cluster extends AsyncDisposable {
  readonly base: string;
  readonly nodes: number;
  readonly generation: number;
  nodeBase(pnn: number): string;
  down(): Promise<void>;
  /** SIGKILL one daemon of node `pnn`; its supervisor restarts it. Returns the killed pid. */
  kill(pnn: number, daemon: string): number;
  /** Cut node `pnn` off from every other node, both ways (run/faults.json `blockedPeers`). */
  partition(pnn: number): void;
  /** Lift every cut made by partition (other fault switches stay). */
  heal(): void;
  /** A client connected to node `pnn`'s dbd; the caller closes it. */
  clientFor(pnn: number, o?: { name?: string; timeoutMs?: number }): Promise<Client>;
}

/** Starts a local cluster as `ctdbng-cluster up` does and resolves when every node is ready. */
export async function startCluster(o: StartClusterOptions): Promise<Cluster> {
  const base = resolve(o.base);
  let result;
  try {
    result = await up({
      base, nodes: o.nodes, fresh: o.fresh ?? true,
      tunablesText: tunablesFileText(o.tunables ?? {}),
      ...(o.portBase !== undefined ? { portBase: o.portBase } : {}),
      ...(o.logLevel !== undefined ? { logLevel: o.logLevel } : {}),
      ...(o.clusterLock !== undefined ? { clusterLock: o.clusterLock } : {}),
      ...(o.witnesses !== undefined ? { witnesses: o.witnesses } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
  } catch (err) {
    await down(base);
    if (err instanceof NodeNotReadyError) throw new Error(notReadyReport(base, err, tailLines), { cause: err });
    throw err;
  }
  const { generation } = result;
  return {
    base,
    nodes: o.nodes,
    generation,
    nodeBase: (pnn) => nodeDir(base, pnn),
    down: () => down(base),
    kill: (pnn, daemon) => killDaemon(base, pnn, daemon),
    partition: (pnn) => partition(base, pnn),
    heal: () => heal(base),
    clientFor: (pnn, co) => connect({ base: nodeDir(base, pnn), name: co?.name ?? 'test', timeoutMs: co?.timeoutMs ?? 5_000 }),
    [Symbol.asyncDispose]: () => down(base),
  };
}
