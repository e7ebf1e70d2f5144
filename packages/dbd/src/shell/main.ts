#!/usr/bin/env node
// ctdbng-dbd: the database daemon of one node (DESIGN §2, §7). Reads $CTDBNG_BASE/ctdbng.conf,
// wipes the node's volatile db files (in place), binds the client and node sockets, serves.
import { hostname } from 'node:os';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseFromEnv, createLogger, hostClock, hostRandom, FaultSwitch, faultsPath, fnv1a32String, InvariantError, loadNodeConfig, serveMetrics, type Logger, type NodeConfig } from '@ctdbng/common';
import { ErrorCode, frameBytesMax, type Envelope } from '@ctdbng/protocol';
import { DbFile, StoreBusyError, type DbIdentity } from '@ctdbng/store';
import { DbdCore } from '../core/dbd-core.js';
import type { CoreIo } from '../core/io.js';
import { ClientSocket } from './client-socket.js';
import { NodeLinks } from './node-links.js';
import { Timers } from '@ctdbng/common';
import { EventsPublisher } from './events-pub.js';
import { NodeStateFile } from './node-state-file.js';
import { Checkpointer } from './checkpointer.js';
import { createRequire } from 'node:module';

const checkpointIntervalMs = 250;
/** Checkpoint passes while clients keep writing (the WAL reached checkpointRestartFrames). */
const checkpointBusyIntervalMs = 10;
/** A WAL of this many frames is restarted (SQLite's own autocheckpoint default, ~4 MiB). */
const checkpointRestartFrames = 1000;
/** Frames written between two passes that count as clients writing steadily (dbd's lease writes are ~4 a second). */
const checkpointBusyFrames = 100;
/** A RESTART finding the writer lock taken is tried again this often, this far apart. */
const checkpointRestartTriesMax = 20;
const checkpointRestartRetryMs = 0.05;
const recoverySteps = new Set(['freeze', 'pullDb', 'pushDbStart', 'pushDbBatch', 'pushDbCommit', 'installGeneration', 'thaw']);
/** A WAL file past this size is truncated (TRUNCATE) instead of only backfilled. */
const walBytesMax = 16 * 1024 * 1024;
/** How long a RESTART or TRUNCATE in the worker waits for the writer lock (clients retry meanwhile). */
const checkpointBusyMs = 5;

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function dbPath(cfg: NodeConfig, name: string): string {
  return join(cfg.volatileDir, `${name}.${cfg.pnn}.sqlite`);
}

/** Wipes every volatile db file of this node in place (rows, not files: §2.2) for the new incarnation. */
function wipeVolatile(cfg: NodeConfig, incarnation: number, log: Logger): void {
  mkdirSync(cfg.volatileDir, { recursive: true });
  const suffix = `.${cfg.pnn}.sqlite`;
  for (const f of readdirSync(cfg.volatileDir)) {
    if (!f.endsWith(suffix)) continue;
    const name = f.slice(0, -suffix.length);
    const file = DbFile.open(join(cfg.volatileDir, f), { dbId: fnv1a32String(name), name, persistent: false, pnn: cfg.pnn });
    try {
      file.wipe();
      file.setMeta({ incarnation, lease_until_ns: 0, frozen: 1, valid: 0, generation: 0 });
      file.checkpoint();
    } finally {
      file.close();
    }
    log.info({ db: name }, 'volatile db wiped at start');
  }
}

async function main(): Promise<void> {
  let cfg: NodeConfig;
  try {
    cfg = loadNodeConfig(baseFromEnv());
  } catch (err) {
    process.stderr.write(`ctdbng-dbd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger({ daemon: 'dbd', pnn: cfg.pnn, level: cfg.logLevel, location: cfg.logLocation });
  mkdirSync(cfg.runDir, { recursive: true });
  let clients: ClientSocket | undefined;
  let links: NodeLinks | undefined;
  let events: EventsPublisher | undefined;
  const timers = new Timers((id) => guarded(() => core.onTimer(id)));
  /** Tells the checkpointer worker the attached db files (set once the worker exists). */
  let syncCheckpointFiles = (): void => undefined;
  const io: CoreIo = {
    sendToClient: (id, env) => (id.startsWith('r:') ? links?.reply(id.slice(2), env) : clients?.send(id, env)),
    sendToNode: (pnn, env) => links?.send(pnn, env),
    setTimer: (id, ms) => timers.set(id, ms),
    cancelTimer: (id) => timers.cancel(id),
    clock: hostClock,
    random: hostRandom,
    wallMs: () => Date.now(),
    isPidAlive,
    openDb: (identity: DbIdentity) => {
      const file = DbFile.open(dbPath(cfg, identity.name), identity);
      // The checkpointer learns of the new file once the core has registered it.
      setImmediate(() => syncCheckpointFiles());
      return file;
    },
    publish: (event) => events?.publish(event),
    nodeState: new NodeStateFile(cfg.stateDir, [cfg.volatileDir, cfg.persistentDir]),
  };
  const core = new DbdCore({ pnn: cfg.pnn, nodes: cfg.nodes, host: hostname(), tunables: cfg.tunables, log }, io);

  /** Runs a core handler; a broken invariant ends the daemon (the supervisor restarts it). */
  function guarded(fn: () => void, onError?: (code: ErrorCode, message: string) => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof InvariantError) {
        log.fatal({ err }, 'invariant broken');
        process.exit(70);
      }
      // The db file stayed busy (another process writing, a checkpoint): the caller may retry.
      const busy = err instanceof StoreBusyError;
      if (busy) log.warn({ err: err.message }, 'request refused: db file busy');
      else log.error({ err }, 'request failed inside dbd');
      onError?.(busy ? ErrorCode.ERR_BUSY : ErrorCode.ERR_INTERNAL, err instanceof Error ? err.message : String(err));
    }
  }

  wipeVolatile(cfg, core.ctx.incarnation, log);
  const faults = new FaultSwitch(faultsPath(cfg.runDir));
  /** Fault injection (tests): every recovery step, or one named step, is answered with an error. */
  const failedStep = (env: Envelope): boolean => {
    const f = faults.get();
    const body = env.body ?? '';
    return (f.failRecovery && recoverySteps.has(body)) || f.failStep === body;
  };
  const handleControl = (clientId: string, env: Envelope, reply: (code: ErrorCode, message: string) => void): void => {
    if (failedStep(env)) return reply(ErrorCode.ERR_INTERNAL, 'recovery step failed (fault injection)');
    guarded(() => core.onClientRequest(clientId, env), reply);
  };
  clients = new ClientSocket(cfg.clientSocket, frameBytesMax, log, {
    onRequest: (clientId, env: Envelope) =>
      handleControl(clientId, env, (code, message) => clients?.send(clientId, { requestId: env.requestId, error: { code, message } })),
    onBadFrame: () => core.stats.inc('bad_frames'),
    onClientGone: (clientId) => core.onClientGone(clientId),
  });
  links = new NodeLinks(cfg.pnn, cfg.nodes, cfg.nodePort, frameBytesMax, log, {
    // A node message that failed (its SQLite transaction stayed busy past the bound) is lost as
    // surely as one dropped on the wire: ask for a recovery (DESIGN §2.1.9), else a hand-over
    // lost here leaves the record's waiters waiting for ever.
    onMessage: (env) => guarded(() => core.onNodeMessage(env), (_code, message) => core.ctx.wantRecovery(`node message ${env.body ?? '?'} failed: ${message}`)),
    onControl: (peer, env) => {
      const reply = (code: ErrorCode, message: string): void => links?.reply(peer, { requestId: env.requestId, error: { code, message } });
      if (failedStep(env)) return reply(ErrorCode.ERR_INTERNAL, `${env.body ?? '?'} failed (fault injection)`);
      guarded(() => core.onNodeControl(`r:${peer}`, env), reply);
    },
    onBadFrame: () => core.stats.inc('bad_frames'),
    onLinkUp: (pnn) => guarded(() => core.onLinkUp(pnn)),
    onLinkDown: (pnn) => guarded(() => core.onLinkDown(pnn)),
  }, faults);
  events = new EventsPublisher(cfg.eventsSocket, log);
  await events.bind();
  await links.bind(cfg.nodeAddress);
  await clients.bind();
  links.connectAll();
  core.start();
  const metrics = await serveMetrics(core.stats.registry, cfg.nodeAddress, cfg.metricsPortBase).catch((err: unknown) => {
    log.error({ err, port: cfg.metricsPortBase }, 'metrics endpoint not started');
    return undefined;
  });
  const checkpointer = new Checkpointer(createRequire(import.meta.url).resolve('better-sqlite3'), {
    intervalMs: checkpointIntervalMs, busyIntervalMs: checkpointBusyIntervalMs, restartFramesMin: checkpointRestartFrames, busyFramesMin: checkpointBusyFrames,
    restartTriesMax: checkpointRestartTriesMax, restartRetryMs: checkpointRestartRetryMs, busyMs: checkpointBusyMs, walBytesMax,
  });
  syncCheckpointFiles = () => guarded(() => {
    checkpointer.setFiles(core.ctx.dbs.all().map((db) => ({ path: db.file.path, persistent: db.info.persistent })));
  });
  syncCheckpointFiles();
  log.info({ address: cfg.nodeAddress, port: cfg.nodePort, socket: cfg.clientSocket, incarnation: core.ctx.incarnation }, 'dbd started');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'dbd stopping');
    syncCheckpointFiles = () => undefined;
    void checkpointer.close();
    timers.clear();
    clients?.close();
    links?.close();
    events?.close();
    metrics?.close();
    core.stop();
    log.flush();
    setImmediate(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await Promise.all([
    clients.run().catch((err: unknown) => { if (!stopping) throw err; }),
    links.run().catch((err: unknown) => { if (!stopping) throw err; }),
  ]);
}

main().catch((err: unknown) => {
  process.stderr.write(`ctdbng-dbd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
