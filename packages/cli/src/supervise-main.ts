#!/usr/bin/env node
// The supervisor of one node of a local cluster (DESIGN §11), started detached by
// `ctdbng-cluster up`: `supervise-main.js --base <base>/node.P --pnn P`. Writes run/supervisor.pid,
// runs every daemon of the node under Supervisor, stops them on SIGTERM or SIGINT and exits.
// Imports are light on purpose (no client library, no pino): the daemons are spawned at once.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DAEMONS } from './cluster/daemons.js';
import { jsonLog } from './cluster/json-log.js';
import { nodePaths } from './cluster/paths.js';
import { readPid, removePid, writePid } from './cluster/pids.js';
import { sleepMs } from './cluster/sleep.js';
import { spawnDaemon } from './cluster/spawn-daemon.js';
import { Supervisor } from './cluster/supervisor.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, pnn: { type: 'string' } } });
if (values.base === undefined || values.pnn === undefined) {
  process.stderr.write('usage: supervise-main.js --base DIR --pnn P\n');
  process.exit(2);
}
const dir = resolve(values.base);
const log = jsonLog({ daemon: 'supervisor', pnn: Number(values.pnn) });

const supervisor = new Supervisor(
  DAEMONS.map((d) => d.name),
  {
    spawn: (daemon) => spawnDaemon(dir, daemon, process.env),
    pidChanged: (daemon, pid) => (pid === undefined ? removePid(nodePaths.pidFile(dir, daemon)) : writePid(nodePaths.pidFile(dir, daemon), pid)),
    now: () => Date.now(),
    sleep: sleepMs,
    log: (msg, fields) => log.info(fields, msg),
  },
);

const pidFile = nodePaths.pidFile(dir, 'supervisor');
writePid(pidFile, process.pid);
supervisor.start();
log.info({ pid: process.pid, daemons: DAEMONS.map((d) => d.name) }, 'supervisor started');

let stopping = false;
async function shutdown(sig: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal: sig }, 'stopping daemons');
  await supervisor.stop();
  // Another supervisor may have been started in this dir since: remove only our own pid file.
  if (readPid(pidFile) === process.pid) removePid(pidFile);
  log.info({}, 'supervisor stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
