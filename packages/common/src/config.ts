// Node configuration (DESIGN §9): $CTDBNG_BASE holds ctdbng.conf (INI with sections
// [cluster] [database] [logging] [security]), nodes, ctdbng.tunables, run/ and db/.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNodesFile, type NodesFile } from './nodes-file.js';
import { loadTunablesFile, type TunableValues } from './tunables.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Ini = Map<string, Map<string, string>>;

export function parseIni(text: string): Ini {
  const out: Ini = new Map();
  let section = '';
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^\[([^\]]+)\]$/.exec(line);
    if (m) {
      section = m[1]!.trim().toLowerCase();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new ConfigError(`ctdbng.conf line ${i + 1}: expected 'name = value'`);
    if (!out.has(section)) out.set(section, new Map());
    out.get(section)!.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface NodeConfig {
  base: string;
  /** This node's address; its PNN is its line in the nodes file. */
  nodeAddress: string;
  pnn: number;
  nodes: NodesFile;
  nodePort: number;
  recoverdPort: number;
  /** Metrics ports: dbd uses metricsPortBase, vacuumd + 1, recoverd + 2. */
  metricsPortBase: number;
  runDir: string;
  /** Where dbd keeps its node state file (§5.4): persistent storage, like the db files. */
  stateDir: string;
  volatileDir: string;
  persistentDir: string;
  clientSocket: string;
  eventsSocket: string;
  logLevel: LogLevel;
  /** "stderr" or a file path. */
  logLocation: string;
  tunables: TunableValues;
}

const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

function int(ini: Ini, section: string, key: string, dflt: number): number {
  const v = ini.get(section)?.get(key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`[${section}] ${key} = ${v}: expected a port number`);
  return n;
}

export function baseFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['CTDBNG_BASE'] ?? '/etc/ctdbng');
}

export function loadNodeConfig(base: string): NodeConfig {
  const confPath = join(base, 'ctdbng.conf');
  if (!existsSync(confPath)) throw new ConfigError(`no ctdbng.conf in ${base} (set CTDBNG_BASE)`);
  const ini = parseIni(readFileSync(confPath, 'utf8'));
  const cluster = ini.get('cluster') ?? new Map<string, string>();
  const nodesPath = cluster.get('nodes list') ?? join(base, 'nodes');
  const nodes = readNodesFile(nodesPath);
  const nodeAddress = cluster.get('node address');
  if (nodeAddress === undefined) throw new ConfigError('[cluster] node address is not set');
  const entry = nodes.nodes.find((n) => n.address === nodeAddress);
  if (entry === undefined) throw new ConfigError(`node address ${nodeAddress} is not in ${nodesPath}`);
  const runDir = join(base, 'run');
  const db = ini.get('database') ?? new Map<string, string>();
  const logging = ini.get('logging') ?? new Map<string, string>();
  const level = (logging.get('log level') ?? 'info').toLowerCase() as LogLevel;
  if (!logLevels.includes(level)) throw new ConfigError(`[logging] log level = ${level}: expected one of ${logLevels.join(', ')}`);
  const location = logging.get('location') ?? 'stderr';
  return {
    base,
    nodeAddress,
    pnn: entry.pnn,
    nodes,
    nodePort: int(ini, 'cluster', 'node port', 4379),
    recoverdPort: int(ini, 'cluster', 'recoverd port', 4380),
    metricsPortBase: int(ini, 'cluster', 'metrics port', 9379),
    runDir,
    stateDir: db.get('state directory') ?? join(base, 'db'),
    volatileDir: db.get('volatile database directory') ?? join(base, 'db', 'volatile'),
    persistentDir: db.get('persistent database directory') ?? join(base, 'db', 'persistent'),
    clientSocket: join(runDir, 'dbd.sock'),
    eventsSocket: join(runDir, 'dbd-events.sock'),
    logLevel: level,
    logLocation: location.startsWith('file:') ? location.slice(5) : location,
    tunables: loadTunablesFile(join(base, 'ctdbng.tunables')),
  };
}

/**
 * The text of a ctdbng.conf for a local cluster node (used by ctdbng-cluster). `logFile` 'stderr'
 * makes every daemon of the node log to its stderr (ctdbng-cluster sends it to log/<daemon>.log).
 */
export function renderNodeConf(opts: { nodeAddress: string; nodePort: number; recoverdPort: number; metricsPort: number; logLevel: LogLevel; logFile: string }): string {
  return [
    '[cluster]',
    `node address = ${opts.nodeAddress}`,
    `node port = ${opts.nodePort}`,
    `recoverd port = ${opts.recoverdPort}`,
    `metrics port = ${opts.metricsPort}`,
    '',
    '[logging]',
    `log level = ${opts.logLevel}`,
    opts.logFile === 'stderr' ? 'location = stderr' : `location = file:${opts.logFile}`,
    '',
  ].join('\n');
}
