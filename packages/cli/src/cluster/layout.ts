// The directory of a local cluster (DESIGN §11): <base>/node.P is node P's CTDBNG_BASE, with
// ctdbng.conf, nodes, ctdbng.tunables, run/, db/ and log/ (one log file per daemon).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderNodeConf, type LogLevel } from '@ctdbng/common';
import { nodeDir, nodePaths } from './paths.js';

export { nodeDir, nodePaths } from './paths.js';

export const clusterBaseDefault = '/tmp/ctdbng-cluster';
/** Addresses are 127.0.0.(P+1): one loopback address per node, so ports repeat across nodes. */
export const clusterNodesMax = 254;

export interface Ports {
  nodePort: number;
  recoverdPort: number;
  /** dbd's; vacuumd uses + 1 and recoverd + 2. */
  metricsPort: number;
}

/** Default ports, or with --port-base P: node P, recoverd P + 1, metrics P + 2 … P + 4. */
export function portsFor(portBase?: number): Ports {
  if (portBase === undefined) return { nodePort: 4379, recoverdPort: 4380, metricsPort: 9379 };
  return { nodePort: portBase, recoverdPort: portBase + 1, metricsPort: portBase + 2 };
}

export function clusterBase(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env['CTDBNG_CLUSTER_BASE'] ?? clusterBaseDefault);
}

export function nodeAddress(pnn: number): string {
  return `127.0.0.${pnn + 1}`;
}

/** The nodes file: one address a line; a witness (DESIGN §1: holds no records, keeps a quorum) is marked so. */
export function nodesFileText(nodes: number, witnesses: readonly number[] = []): string {
  return Array.from({ length: nodes }, (_, p) => `${nodeAddress(p)}${witnesses.includes(p) ? ' witness' : ''}\n`).join('');
}

export class TunablesSpecError extends Error {
  override readonly name = 'TunablesSpecError';
}

/** "Name=v Name=v" (CTDBNG_CLUSTER_TUNABLES) as a record. */
export function parseTunablesSpec(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of spec.split(/[\s,]+/).filter((s) => s !== '')) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(-?\d+)$/.exec(item);
    if (m === null) throw new TunablesSpecError(`'${item}' is not Name=integer`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** ctdbng.tunables text: `Name=value` lines. */
export function tunablesFileText(t: Readonly<Record<string, number>>): string {
  return Object.entries(t).map(([k, v]) => `${k}=${v}\n`).join('');
}

export interface NodeFilesOptions {
  base: string;
  pnn: number;
  nodes: number;
  ports: Ports;
  logLevel: LogLevel;
  tunablesText: string;
  /** `[cluster] cluster lock` of every node (a file path, `etcd://host:port/key` or `!command`); none when undefined. */
  clusterLock?: string;
  /** Nodes configured `witness` in the nodes file. */
  witnesses?: readonly number[];
}

export class ClusterLockSpecError extends Error {
  override readonly name = 'ClusterLockSpecError';
}

/**
 * ctdbng.conf text with `cluster lock = SPEC` added to its [cluster] section. recoverd parses the
 * value (packages/recoverd core/cluster-lock.ts); here it only has to fit on one ini line.
 */
export function withClusterLock(conf: string, spec: string | undefined): string {
  if (spec === undefined) return conf;
  if (spec.trim() === '' || /[\r\n]/.test(spec)) throw new ClusterLockSpecError(`cluster lock '${spec}': expected one non-empty line`);
  if (!conf.startsWith('[cluster]\n')) throw new ClusterLockSpecError('ctdbng.conf does not start with its [cluster] section');
  return conf.replace('[cluster]\n', `[cluster]\ncluster lock = ${spec.trim()}\n`);
}

/** Writes node P's config files and creates its directories (existing dbs are kept). */
export function writeNodeFiles(o: NodeFilesOptions): string {
  const dir = nodeDir(o.base, o.pnn);
  for (const sub of ['run', 'db', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  const conf = renderNodeConf({
    nodeAddress: nodeAddress(o.pnn),
    nodePort: o.ports.nodePort,
    recoverdPort: o.ports.recoverdPort,
    metricsPort: o.ports.metricsPort,
    logLevel: o.logLevel,
    // Each daemon logs to its stderr, which the supervisor appends to log/<daemon>.log: one file
    // per daemon, though they read the same ctdbng.conf.
    logFile: 'stderr',
  });
  writeFileSync(join(dir, 'ctdbng.conf'), withClusterLock(conf, o.clusterLock));
  writeFileSync(nodePaths.nodesFile(dir), nodesFileText(o.nodes, o.witnesses));
  writeFileSync(join(dir, 'ctdbng.tunables'), o.tunablesText);
  return dir;
}
