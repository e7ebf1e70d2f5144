#!/usr/bin/env node
// `ctdbng-cluster up | down | status | kill | partition | heal`: the local cluster launcher (DESIGN §11).
// Exit 0 ok, 1 failure, 2 usage error. See packages/cli/README.md.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { LogLevel } from '@ctdbng/common';
import { oneLine } from './cli/program.js';
import { ClusterError, down, fault, heal, killDaemon, notReadyReport, partition, up, type UpResult } from './cluster/cluster.js';
import { DAEMONS } from './cluster/daemons.js';
import { clusterBase, nodeAddress, nodeDir, parseTunablesSpec, tunablesFileText } from './cluster/layout.js';
import { NodeNotReadyError, tailLines } from './cluster/readiness.js';
import { clusterStatus, statusText } from './cluster/status.js';

function intArg(what: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected ${what} in ${min}..${max}`);
    return n;
  };
}

interface UpFlags {
  nodes: number;
  base?: string;
  fresh: boolean;
  foreground: boolean;
  portBase?: number;
  tunables?: string;
  logLevel: LogLevel;
  clusterLock?: string;
  witness?: number[];
}

function tunablesText(flags: UpFlags): string {
  if (flags.tunables !== undefined) return readFileSync(flags.tunables, 'utf8');
  const spec = process.env['CTDBNG_CLUSTER_TUNABLES'];
  return spec === undefined ? '' : tunablesFileText(parseTunablesSpec(spec));
}

function upReport(r: UpResult): string {
  const verb = r.alreadyRunning ? 'already running, checked' : 'up';
  const head = `ctdbng-cluster: ${r.nodes} node(s) ${verb} in ${r.elapsedMs} ms (generation ${r.generation}), base ${r.base}`;
  const rows = Array.from({ length: r.nodes }, (_, p) =>
    `node ${p}: ${nodeAddress(p).padEnd(11)} CTDBNG_BASE=${nodeDir(r.base, p)} npx ctdbng status   (logs in ${nodeDir(r.base, p)}/log)`);
  return [head, ...rows, `stop it with: npx ctdbng-cluster down --base ${r.base}`, ''].join('\n');
}

async function runUp(flags: UpFlags): Promise<void> {
  const base = clusterBase(flags.base);
  try {
    const r = await up({
      base, nodes: flags.nodes, fresh: flags.fresh, tunablesText: tunablesText(flags), logLevel: flags.logLevel,
      ...(flags.portBase !== undefined ? { portBase: flags.portBase } : {}),
      ...(flags.clusterLock !== undefined ? { clusterLock: flags.clusterLock } : {}),
      ...(flags.witness !== undefined ? { witnesses: flags.witness } : {}),
    });
    process.stdout.write(upReport(r));
  } catch (err) {
    if (err instanceof NodeNotReadyError) throw new ClusterError(notReadyReport(base, err, tailLines));
    throw err;
  }
  if (flags.foreground) await untilSignalled(base);
}

/** `--foreground` (npm start): stay until SIGINT, SIGTERM or SIGHUP, then take the cluster down. */
function untilSignalled(base: string): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) => {
    const stop = (): void => {
      process.stdout.write('ctdbng-cluster: stopping\n');
      void down(base).finally(() => {
        clearInterval(keepAlive);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
  });
}

function program(): Command {
  const p = new Command('ctdbng-cluster')
    .description('Run a local ctdb-ng cluster: N nodes on 127.0.0.1..N, each under a supervisor.')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(`ctdbng-cluster: ${oneLine(s)}\n`) });
  p.command('up')
    .description('start N nodes and wait until the first recovery is done on every node')
    .option('-n, --nodes <N>', 'number of nodes', intArg('a node count', 1, 254), 3)
    .option('--base <dir>', 'cluster directory (default $CTDBNG_CLUSTER_BASE or /tmp/ctdbng-cluster)')
    .option('--fresh', 'take down and remove an existing cluster in the base first', false)
    .option('--foreground', 'stay running; on SIGINT/SIGTERM take the cluster down', false)
    .option('--port-base <P>', 'node port P, recoverd P+1, metrics P+2..P+4', intArg('a port', 1, 65530))
    .option('--tunables <file>', 'ctdbng.tunables for every node (default: $CTDBNG_CLUSTER_TUNABLES "Name=v ...")')
    .option('--cluster-lock <spec>', 'cluster lock of every node: a file path, etcd://host:port/key or !command')
    .option('--witness <pnns>', 'nodes that hold no records but keep a quorum (comma-separated; e.g. -n 3 --witness 2 for two nodes and a witness)', pnnList)
    .addOption(new Option('--log-level <level>', 'daemon log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .action((flags: UpFlags) => runUp(flags));
  p.command('down')
    .description('stop every node of the cluster')
    .option('--base <dir>', 'cluster directory')
    .action((flags: { base?: string }) => down(clusterBase(flags.base)));
  p.command('status')
    .description('show supervisor, daemons and ping of each node')
    .option('--base <dir>', 'cluster directory')
    .option('--json', 'print one JSON document', false)
    .action(async (flags: { base?: string; json: boolean }) => {
      const base = clusterBase(flags.base);
      const nodes = await clusterStatus(base);
      process.stdout.write(flags.json ? `${JSON.stringify({ base, nodes })}\n` : statusText(base, nodes));
    });
  p.command('kill')
    .description('SIGKILL one daemon of a node (fault injection: the supervisor restarts it)')
    .argument('<pnn>', 'node', intArg('a PNN', 0, 253))
    .argument('<daemon>', `daemon name (${DAEMONS.map((d) => d.name).join(', ')})`)
    .option('--base <dir>', 'cluster directory')
    .action((pnn: number, daemon: string, flags: { base?: string }) => {
      const pid = killDaemon(clusterBase(flags.base), pnn, daemon);
      process.stdout.write(`killed ${daemon} of node ${pnn} (pid ${pid})\n`);
    });
  p.command('partition')
    .description('cut node PNN off from every other node, both ways (fault injection: run/faults.json)')
    .argument('<pnn>', 'node', intArg('a PNN', 0, 253))
    .option('--base <dir>', 'cluster directory')
    .action((pnn: number, flags: { base?: string }) => {
      partition(clusterBase(flags.base), pnn);
      process.stdout.write(`node ${pnn} cut off\n`);
    });
  p.command('heal')
    .description('lift every cut made by partition')
    .option('--base <dir>', 'cluster directory')
    .action((flags: { base?: string }) => heal(clusterBase(flags.base)));
  p.command('fault')
    .description("set node PNN's fault switches (run/faults.json): a failing recovery step, a one-way cut, a vacuumd pause")
    .argument('<pnn>', 'node', intArg('a PNN', 0, 253))
    .option('--fail-step <name>', 'dbd answers this recovery control with ERR_INTERNAL (freeze, pullDb, pushDbStart, pushDbBatch, pushDbCommit, installGeneration, thaw)')
    .option('--one-way-out <pnns>', "drop this node's node messages to these nodes (comma-separated)", pnnList)
    .option('--one-way-in <pnns>', 'drop the node messages this node receives from these nodes (comma-separated)', pnnList)
    .option('--pause-after <phase>', 'vacuumd stops after this phase (storeTombstone, tryDelete) until the switches change')
    .option('--clear', "remove every switch of the node but partition's", false)
    .option('--base <dir>', 'cluster directory')
    .action((pnn: number, flags: { failStep?: string; oneWayOut?: number[]; oneWayIn?: number[]; pauseAfter?: string; clear: boolean; base?: string }) => {
      const { base, ...change } = flags;
      if (!change.clear && change.failStep === undefined && change.oneWayOut === undefined && change.oneWayIn === undefined && change.pauseAfter === undefined) {
        throw new ClusterError('fault: give --fail-step, --one-way-out, --one-way-in, --pause-after or --clear');
      }
      fault(clusterBase(base), pnn, change);
    });
  return p;
}

function pnnList(v: string): number[] {
  const out = v.split(',').filter((x) => x !== '').map((x) => intArg('a PNN', 0, 253)(x));
  if (out.length === 0) throw new InvalidArgumentError('expected PNNs, comma-separated');
  return out;
}

async function main(): Promise<number> {
  try {
    await program().parseAsync(process.argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    process.stderr.write(`ctdbng-cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// No top-level await: the bundle of this entry is a CommonJS file (packages/cli/scripts/bundle.mjs).
void main().then((code) => process.exit(code));
