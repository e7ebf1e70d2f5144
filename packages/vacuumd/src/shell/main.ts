#!/usr/bin/env node
// ctdbng-vacuumd: the vacuuming daemon of one node (DESIGN §4). Reads $CTDBNG_BASE/ctdbng.conf,
// opens its own state file ($CTDBNG_BASE/db/vacuumd.sqlite), connects to dbd's client and events
// sockets, binds its control socket (run/vacuumd.sock) and serves metrics on metrics port + 1.
// SIGTERM/SIGINT: stop starting work, let the running batch finish (its state-file transaction
// is synchronous, so it is whole), close, exit 0.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  baseFromEnv, createLogger, FaultSwitch, faultsPath, loadNodeConfig, serveMetrics, setTunable,
  type InvariantError, type Logger, type NodeConfig, type TunableValues, type VacuumPausePoint,
} from '@ctdbng/common';
import type { TunableSetting, VolatileDb } from '../core/dbd-port.js';
import { StateFile } from '../core/state-file.js';
import type { VacuumSettings } from '../core/vacuum-pass.js';
import { ControlSocket } from './control-socket.js';
import { DbdConnection } from './dbd-connection.js';
import { CoreDriver } from './driver.js';
import { Debouncer, EventsSubscriber } from './events-sub.js';
import { VacuumMetrics } from './metrics.js';

/** FeedGrew debounce: a burst of deletes makes one pass (DESIGN §4 target: purged ≤ 2 s). */
const feedGrewDebounceMs = 25;
/** How long SIGTERM waits for the running batch before exiting anyway. */
const stopWaitMsMax = 5_000;

function settingsFrom(cfg: NodeConfig, t: TunableValues): VacuumSettings {
  return {
    pnn: cfg.pnn,
    batchSizeCount: t.vacuumBatchSizeCount,
    fullScanIntervalMs: t.vacuumFullScanIntervalSeconds * 1000,
    intervalMs: t.vacuumIntervalSeconds * 1000,
    requestTimeoutMs: t.controlTimeoutMs,
    retryDelayMsMin: t.vacuumRetryMinMs,
    retryDelayMsMax: Math.max(t.vacuumRetryMinMs, t.vacuumRetryMaxMs),
  };
}

function logLocation(cfg: NodeConfig): string {
  // The conf names one location (dbd's file): vacuumd writes vacuumd.log next to it.
  return cfg.logLocation === 'stderr' ? 'stderr' : join(dirname(cfg.logLocation), 'vacuumd.log');
}

async function main(): Promise<void> {
  let cfg: NodeConfig;
  try {
    cfg = loadNodeConfig(baseFromEnv());
  } catch (err) {
    process.stderr.write(`ctdbng-vacuumd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger({ daemon: 'vacuumd', pnn: cfg.pnn, level: cfg.logLevel, location: logLocation(cfg) });
  const tunables = { ...cfg.tunables };
  mkdirSync(join(cfg.base, 'db'), { recursive: true });
  mkdirSync(cfg.runDir, { recursive: true });
  const statePath = join(cfg.base, 'db', 'vacuumd.sqlite');
  const state = new StateFile(statePath);
  const conn = new DbdConnection(cfg.clientSocket, log);
  const metrics = new VacuumMetrics();
  const driver = new CoreDriver({
    conn,
    log,
    pauseAfter: faultPause(new FaultSwitch(faultsPath(cfg.runDir)), log),
    fatal: (err) => fatalExit(log, err),
    deps: {
      state,
      log,
      settings: () => settingsFrom(cfg, tunables),
      onReport: (r) => metrics.onReport(r, Date.now()),
      // After each interval tick: the gauges of every db, also when no pass ran.
      onTick: () => setGauges(metrics, state, driver.core.volatileDbs()),
      onTunables: (list) => applyTunables(list, tunables),
    },
  });
  const debounce = new Debouncer(feedGrewDebounceMs, (dbId) => driver.guard('feedGrew', (c) => c.wake(dbId)));
  const events = new EventsSubscriber(cfg.eventsSocket, log, {
    onFreeze: (frozen, generation) => driver.guard('freeze', (c) => c.onFreezeEvent(frozen, generation)),
    onFeedGrew: (dbId) => debounce.request(dbId),
  });
  const control = new ControlSocket(join(cfg.runDir, 'vacuumd.sock'), log, (env) => driver.serveControl(env));
  await control.bind();
  const server = await serveMetrics(metrics.registry, cfg.nodeAddress, cfg.metricsPortBase + 1).catch((err: unknown) => {
    log.error({ err, port: cfg.metricsPortBase + 1 }, 'metrics endpoint not started');
    return undefined;
  });

  // The first tick now (pick up setvar changes, refresh dbs and freeze state, pass every db); the
  // core then arms its tick timer for VacuumInterval, or the earliest retry when sooner.
  driver.guard('start', (c) => c.start());
  log.info({ socket: cfg.clientSocket, state: statePath, pending: state.totalPending() }, 'vacuumd started');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'vacuumd stopping');
    debounce.clear();
    void driver.stop(stopWaitMsMax).finally(() => {
      control.close();
      events.close();
      conn.close();
      server?.close();
      state.close();
      log.flush();
      setImmediate(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await Promise.all([conn.run(), events.run(), control.run()]);
}

function fatalExit(log: Logger, err: InvariantError): void {
  log.fatal({ err }, 'invariant broken');
  log.flush();
  process.exit(70);
}

function setGauges(metrics: VacuumMetrics, state: StateFile, dbs: readonly VolatileDb[]): void {
  for (const db of dbs) {
    const c = state.counts(db.dbId);
    metrics.setGauges(db.name, c.pending, c.oldestFirstSeenMs, Date.now());
  }
}

/** run/faults.json "pauseAfter": after that remote phase, wait until the file changes. */
function faultPause(faults: FaultSwitch, log: Logger): (point: VacuumPausePoint) => Promise<void> {
  return async (point) => {
    if (faults.get().pauseAfter !== point) return;
    const version = faults.version();
    log.warn({ point }, 'paused by the fault switch until run/faults.json changes');
    while (faults.version() === version) await new Promise((r) => setTimeout(r, 50));
  };
}

/** Vacuum tunables may change at run time (setvar on dbd): the core reads dbd's values each tick. */
function applyTunables(list: readonly TunableSetting[], into: TunableValues): void {
  try {
    for (const t of list) {
      if (t.name.startsWith('Vacuum') || t.name === 'ControlTimeout') setTunable(into, t.name, t.value);
    }
  } catch {
    // A value refused: keep the values we have; the next tick asks again.
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ctdbng-vacuumd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
