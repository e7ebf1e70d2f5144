// recoverd's configuration: the node's ctdbng.conf (common's loadNodeConfig) plus
// `[cluster] cluster lock` (core/cluster-lock.ts) and where recoverd logs.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { baseFromEnv, loadNodeConfig, parseIni, type NodeConfig } from '@ctdbng/common';
import { parseClusterLock, type ClusterLockSpec } from '../core/cluster-lock.js';

/** A log location shared by the node's daemons names dbd's file: recoverd writes recoverd.log beside it. */
export function recoverdLogLocation(location: string): string {
  if (location === 'stderr' || basename(location) === 'recoverd.log') return location;
  return join(dirname(location), 'recoverd.log');
}

export function clusterLockSpec(base: string): ClusterLockSpec | undefined {
  const ini = parseIni(readFileSync(join(base, 'ctdbng.conf'), 'utf8'));
  return parseClusterLock(ini.get('cluster')?.get('cluster lock'));
}

export function loadConfig(): { cfg: NodeConfig; lock: ClusterLockSpec | undefined } {
  try {
    const base = baseFromEnv();
    const cfg = loadNodeConfig(base);
    return { cfg, lock: clusterLockSpec(base) };
  } catch (err) {
    process.stderr.write(`ctdbng-recoverd: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

