#!/usr/bin/env node
// ctdbng-recoverd: the recovery daemon of one node (DESIGN §5, §7). Reads $CTDBNG_BASE/ctdbng.conf,
// binds the recoverd ROUTER, connects to its own dbd (client socket and events) and to every
// node's dbd (node ROUTER, for the leader's controls), and runs the core.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { createLogger, FaultSwitch, faultsPath, hostClock, InvariantError, serveMetrics, Timers, type CoreClock, type CoreRandom, type Logger } from '@ctdbng/common';
import type { RecoverdIo, TimerId } from '../core/io.js';
import { RecoverdCore } from '../core/recoverd-core.js';
import { loadConfig, recoverdLogLocation } from './config.js';
import { DbdEvents } from './dbd-events.js';
import { dbdRequests, DealerRpc, NodeRpc } from './dbd-rpc.js';
import { HelperLock } from './lock-process.js';
import { recoverdMetrics } from './metrics.js';
import { PeerLinks } from './peer-links.js';
import { VoteFile } from './vote-file.js';

function fatal(log: Logger, err: unknown): never {
  log.fatal({ err }, err instanceof InvariantError ? 'invariant broken' : 'recoverd failed');
  log.flush();
  process.exit(70);
}

/** performance.now() for the core's intervals; the host clock in ns (unused by recoverd's core today). */
const shellClock: CoreClock = { nowMs: () => performance.now(), nowNs: () => hostClock.nowNs() };
const shellRandom: CoreRandom = { next: () => randomInt(0, 2 ** 32) / 2 ** 32 };

async function main(): Promise<void> {
  const { cfg, lock: lockSpec } = loadConfig();
  const log = createLogger({ daemon: 'recoverd', pnn: cfg.pnn, level: cfg.logLevel, location: recoverdLogLocation(cfg.logLocation) });
  const { registry, sink } = recoverdMetrics();
  const faults = new FaultSwitch(faultsPath(cfg.runDir));
  const peers = new PeerLinks(cfg, log, faults);
  const nodes = new NodeRpc(cfg, log, faults);
  const own = new DealerRpc(`ipc://${cfg.clientSocket}`, log);
  const events = new DbdEvents(cfg.eventsSocket, log);
  const etcdTtlSeconds = Math.max(2, Math.ceil(cfg.tunables.clusterLockTimeoutMs / 2000));
  let core: RecoverdCore | undefined;
  const lock = lockSpec === undefined ? undefined : new HelperLock(lockSpec, etcdTtlSeconds, log, {
    onHeld: () => guarded(() => core?.onLockHeld()),
    onLost: (why) => guarded(() => core?.onLockLost(why)),
  });
  const timers = new Timers<TimerId>((id) => guarded(() => core?.onTimer(id)));
  const io: RecoverdIo = {
    send: (to, msg) => peers.send(to, msg),
    request: dbdRequests(nodes, own, (id, result) => guarded(() => core?.onReply(id, result))),
    votes: new VoteFile(join(cfg.runDir, 'recoverd.state')),
    lock,
    metrics: sink,
    setTimer: (id, ms) => timers.set(id, ms),
    cancelTimer: (id) => timers.cancel(id),
    clock: shellClock,
    random: shellRandom,
  };
  core = new RecoverdCore({ pnn: cfg.pnn, nodes: cfg.nodes, tunables: cfg.tunables, log }, io);

  /** Runs a core handler: a broken invariant (any throw) ends the daemon; the supervisor restarts it. */
  function guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      fatal(log, err);
    }
  }

  await peers.bind();
  peers.connectAll();
  nodes.connect();
  own.connect();
  events.connect();
  core.start();
  const metrics = await serveMetrics(registry, cfg.nodeAddress, cfg.metricsPortBase + 2).catch((err: unknown) => {
    log.error({ err, port: cfg.metricsPortBase + 2 }, 'metrics endpoint not started');
    return undefined;
  });
  log.info({ address: cfg.nodeAddress, port: cfg.recoverdPort, clusterLock: lockSpec?.kind ?? 'none' }, 'recoverd started');

  const signals = onSignals(log, () => {
    core?.stop();
    timers.clear();
    lock?.release();
    for (const part of [peers, nodes, own, events]) part.close();
    metrics?.close();
  });
  await Promise.all([
    peers.run((env) => guarded(() => core?.onPeerMessage(env))).catch((err: unknown) => {
      if (!signals.stopping()) fatal(log, err);
    }),
    events.run((ev) => guarded(() => core?.onDbdEvent({ recoveryWanted: ev.recoveryWanted, link: ev.link, freeze: ev.freeze }))).catch((err: unknown) => {
      if (!signals.stopping()) fatal(log, err);
    }),
  ]);
}

/** On SIGTERM or SIGINT: `close` once, flush the log, exit 0. */
function onSignals(log: Logger, close: () => void): { stopping(): boolean } {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'recoverd stopping');
    close();
    log.flush();
    setImmediate(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return { stopping: () => stopping };
}

main().catch((err: unknown) => {
  process.stderr.write(`ctdbng-recoverd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
