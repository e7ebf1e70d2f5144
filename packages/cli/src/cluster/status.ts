// `ctdbng-cluster status`: per node, is its supervisor alive, each daemon alive, ping ok.
import { DAEMONS } from './daemons.js';
import { nodeDir } from './layout.js';
import { tryConnect } from './node-client.js';
import { daemonPid, supervisorPid } from './processes.js';
import { nodeDirsPnns } from './cluster.js';

export interface NodeStatus {
  pnn: number;
  dir: string;
  supervisor: { pid: number | null; alive: boolean };
  daemons: { name: string; pid: number | null; alive: boolean }[];
  ping: { ok: boolean; rttMs: number | null };
}

export async function nodeStatus(base: string, pnn: number): Promise<NodeStatus> {
  const dir = nodeDir(base, pnn);
  const sup = supervisorPid(dir);
  const daemons = DAEMONS.map((d) => {
    const pid = daemonPid(dir, d.name);
    return { name: d.name, pid: pid ?? null, alive: pid !== undefined };
  });
  return { pnn, dir, supervisor: { pid: sup ?? null, alive: sup !== undefined }, daemons, ping: await pingNode(dir) };
}

async function pingNode(dir: string): Promise<{ ok: boolean; rttMs: number | null }> {
  const client = await tryConnect(dir, 'ctdbng-cluster');
  if (client === undefined) return { ok: false, rttMs: null };
  try {
    const p = await client.ping({ timeoutMs: 1_000 });
    return { ok: true, rttMs: p.rttMs };
  } catch {
    return { ok: false, rttMs: null }; // reported as "ping failed"
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function clusterStatus(base: string): Promise<NodeStatus[]> {
  return Promise.all(nodeDirsPnns(base).map((p) => nodeStatus(base, p)));
}

export function statusText(base: string, nodes: readonly NodeStatus[]): string {
  if (nodes.length === 0) return `no cluster in ${base}\n`;
  const rows = nodes.map((n) => {
    const sup = n.supervisor.alive ? `supervisor ${n.supervisor.pid}` : 'supervisor DOWN';
    const ds = n.daemons.map((d) => (d.alive ? `${d.name} ${d.pid}` : `${d.name} DOWN`)).join('  ');
    const ping = n.ping.ok ? `ping ${n.ping.rttMs?.toFixed(2)} ms` : 'ping FAILED';
    return `node ${n.pnn}: ${sup}  ${ds}  ${ping}`;
  });
  return `${[`cluster in ${base}`, ...rows].join('\n')}\n`;
}
