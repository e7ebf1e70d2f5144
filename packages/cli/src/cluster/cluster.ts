// `ctdbng-cluster up | down | status | kill` as functions (DESIGN §11); the CLI and
// startCluster() both run these.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { parseNodesFile, type LogLevel, type NodesFile } from '@ctdbng/common';
import { daemonSpec, DAEMONS } from './daemons.js';
import { clusterNodesMax, nodeDir, nodePaths, portsFor, writeNodeFiles } from './layout.js';
import { healNodes, partitionNode, setNodeFaults, type FaultChange } from './partition.js';
import { signal } from './pids.js';
import { daemonPid, startSupervisor, stopNodes, supervisorPid } from './processes.js';
import { NodeNotReadyError, waitNodeReady } from './readiness.js';

export const upTimeoutMsDefault = 30_000;

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

export interface UpOptions {
  base: string;
  nodes: number;
  portBase?: number;
  fresh?: boolean;
  /** ctdbng.tunables contents (Name=value lines). */
  tunablesText?: string;
  logLevel?: LogLevel;
  /** `[cluster] cluster lock` of every node: a file path, `etcd://host:port/key` or `!command`. */
  clusterLock?: string;
  /** Nodes configured `witness` (DESIGN §1): they hold no records; a 2-node cluster adds one. */
  witnesses?: readonly number[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface UpResult {
  base: string;
  nodes: number;
  generation: number;
  /** True when a running cluster was only checked. */
  alreadyRunning: boolean;
  elapsedMs: number;
}

/** PNNs of the node.P directories in `base`, ascending. */
export function nodeDirsPnns(base: string): number[] {
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((name) => /^node\.(\d+)$/.exec(name)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function runningPnns(base: string): number[] {
  return nodeDirsPnns(base).filter((p) => supervisorPid(nodeDir(base, p)) !== undefined);
}

function nodesInFile(base: string): number | undefined {
  const path = nodePaths.nodesFile(nodeDir(base, 0));
  return existsSync(path) ? parseNodesFile(readFileSync(path, 'utf8')).nodes.length : undefined;
}

/** Every PNN that is not a deleted line of the nodes file. */
export function memberPnns(nodes: NodesFile): number[] {
  return nodes.nodes.filter((n) => !n.deleted).map((n) => n.pnn);
}

export async function up(o: UpOptions): Promise<UpResult> {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > clusterNodesMax) {
    throw new ClusterError(`-n ${o.nodes}: expected 1..${clusterNodesMax} nodes`);
  }
  if (o.fresh) {
    await down(o.base);
    rmSync(o.base, { recursive: true, force: true });
  }
  const startedMs = Date.now();
  const running = runningPnns(o.base);
  const alreadyRunning = running.length > 0;
  if (alreadyRunning && (running.length !== o.nodes || nodesInFile(o.base) !== o.nodes)) {
    throw new ClusterError(`a cluster of ${running.length} running node(s) is in ${o.base}; run down first or use --fresh`);
  }
  if (!alreadyRunning) startNodes(o);
  const nodes = parseNodesFile(readFileSync(nodePaths.nodesFile(nodeDir(o.base, 0)), 'utf8'));
  const pnns = memberPnns(nodes);
  const witnesses = nodes.nodes.filter((n) => n.witness).map((n) => n.pnn);
  const deadlineMs = startedMs + (o.timeoutMs ?? upTimeoutMsDefault);
  let generation: number;
  try {
    generation = await waitAllReady(o.base, pnns, witnesses, deadlineMs);
  } catch (err) {
    // A cluster this call started and that did not come up is taken down (its logs stay).
    if (!alreadyRunning) await down(o.base);
    throw err;
  }
  return { base: o.base, nodes: o.nodes, generation, alreadyRunning, elapsedMs: Date.now() - startedMs };
}

/**
 * Every node ready, all with the same generation. Nodes are polled one by one, so a recovery that
 * ran meanwhile can leave them on different generations: then they are asked again.
 */
async function waitAllReady(base: string, pnns: readonly number[], witnesses: readonly number[], deadlineMs: number): Promise<number> {
  for (;;) {
    const generations = await Promise.all(pnns.map((p) => waitNodeReady(base, p, pnns, deadlineMs, witnesses)));
    const first = generations[0]!;
    if (generations.every((g) => g === first)) return first;
    if (Date.now() >= deadlineMs) {
      throw new NodeNotReadyError(pnns[0]!, `nodes not ready in time: generations ${generations.join(', ')} differ`);
    }
  }
}

/** Writes every node's files (removing dirs of a former, larger cluster) and starts the supervisors. */
function startNodes(o: UpOptions): void {
  for (const p of nodeDirsPnns(o.base).filter((p) => p >= o.nodes)) rmSync(nodeDir(o.base, p), { recursive: true, force: true });
  const ports = portsFor(o.portBase);
  const dirs = Array.from({ length: o.nodes }, (_, pnn) =>
    writeNodeFiles({
      base: o.base, pnn, nodes: o.nodes, ports, logLevel: o.logLevel ?? 'info', tunablesText: o.tunablesText ?? '',
      ...(o.clusterLock !== undefined ? { clusterLock: o.clusterLock } : {}),
      ...(o.witnesses !== undefined ? { witnesses: o.witnesses } : {}),
    }),
  );
  // Stale sockets of daemons that died uncleanly: "socket exists" must mean "dbd bound it".
  for (const dir of dirs) rmSync(nodePaths.socket(dir), { force: true });
  dirs.forEach((dir, pnn) => startSupervisor(dir, pnn, o.env ?? process.env));
}

/** Stops every node of `base`; safe when nothing runs. */
export async function down(base: string): Promise<void> {
  await stopNodes(nodeDirsPnns(base).map((p) => nodeDir(base, p)));
}

/** SIGKILL one daemon of node `pnn` (fault injection: its supervisor restarts it). */
export function killDaemon(base: string, pnn: number, daemon: string): number {
  if (daemonSpec(daemon) === undefined) {
    throw new ClusterError(`unknown daemon '${daemon}' (one of ${DAEMONS.map((d) => d.name).join(', ')})`);
  }
  const pid = daemonPid(nodeDir(base, pnn), daemon);
  if (pid === undefined) throw new ClusterError(`${daemon} of node ${pnn} is not running`);
  signal(pid, 'SIGKILL');
  return pid;
}

/** Cuts node `pnn` off from every other node of `base` (fault switch files; `heal` lifts it). */
export function partition(base: string, pnn: number): void {
  partitionNode(base, nodeDirsPnns(base), pnn);
}

/** Sets node `pnn`'s own fault switches (`ctdbng-cluster fault`). */
export function fault(base: string, pnn: number, change: FaultChange): void {
  setNodeFaults(base, nodeDirsPnns(base), pnn, change);
}

/** Lifts every cut made by `partition` in `base`. */
export function heal(base: string): void {
  healNodes(base, nodeDirsPnns(base));
}

/** A readable report of a node that did not come up: the reason and the tail of its logs. */
export function notReadyReport(base: string, err: NodeNotReadyError, tail: (path: string, n: number) => string[]): string {
  const dir = nodeDir(base, err.pnn);
  const logs = ['supervisor', ...DAEMONS.map((d) => d.name)].flatMap((proc) => {
    const path = nodePaths.logFile(dir, proc);
    return [`--- ${path} (last 20 lines)`, ...tail(path, 20)];
  });
  return [err.message, ...logs].join('\n');
}
