#!/usr/bin/env node
// ctdbng-vacuumd: the vacuuming daemon of one node (DESIGN §4). Reads $CTDBNG_BASE/ctdbng.conf,
// opens its own state file ($CTDBNG_BASE/db/vacuumd.sqlite), connects to dbd's client and events
// sockets, binds its control socket (run/vacuumd.sock) and serves metrics on metrics port + 1.
// SIGTERM/SIGINT: stop starting work, let the running batch finish (its state-file transaction
// is synchronous, so it is whole), close, exit 0.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  baseFromEnv, createLogger, FaultSwitch, faultsPath, InvariantError, loadNodeConfig, serveMetrics, setTunable, Timers,
  type CoreClock, type NodeConfig, type TunableValues,
} from '@ctdbng/common';
import { ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { TunableSetting, VacuumIo, VacuumTimerId } from '../core/dbd-port.js';
import { VacuumNowError } from '../core/pass-scheduler.js';
import { StateFile } from '../core/state-file.js';
import { VacuumCore } from '../core/vacuum-core.js';
import type { VacuumSettings } from '../core/vacuum-pass.js';
import { ControlSocket } from './control-socket.js';
import { DbdAdapter } from './dbd-adapter.js';
import { DbdConnection } from './dbd-connection.js';
import { Debouncer, EventsSubscriber } from './events-sub.js';
import { VacuumMetrics } from './metrics.js';

/** FeedGrew debounce: a burst of deletes makes one pass (DESIGN §4 target: purged ≤ 2 s). */
const feedGrewDebounceMs = 25;
/** How long SIGTERM waits for the running batch before exiting anyway. */
const stopWaitMsMax = 5_000;

/**
 * Wall-clock time for the core: the state file keeps next tries and first sightings across
 * restarts (and reboots), which a monotonic clock would not carry over.
 */
const wallClock: CoreClock = { nowMs: () => Date.now(), nowNs: () => Date.now() * 1_000_000 };

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
  const state = new StateFile(join(cfg.base, 'db', 'vacuumd.sqlite'));
  const conn = new DbdConnection(cfg.clientSocket, log);
  const faults = new FaultSwitch(faultsPath(cfg.runDir));
  const metrics = new VacuumMetrics();
  const fatal = (err: InvariantError): void => {
    log.fatal({ err }, 'invariant broken');
    log.flush();
    process.exit(70);
  };
  // Every event goes into the core through here: a broken invariant ends the daemon (the
  // supervisor restarts it); any other throw is logged and the daemon goes on.
  let core: VacuumCore | undefined;
  const guard = (what: string, fn: (c: VacuumCore) => void): void => {
    if (core === undefined) return;
    try {
      fn(core);
    } catch (err) {
      if (err instanceof InvariantError) return fatal(err);
      log.error({ err, event: what }, 'vacuumd core failed');
    }
  };
  const timers = new Timers<VacuumTimerId>((id) => guard('timer', (c) => c.onTimer(id)));
  const dbd = new DbdAdapter(conn, (id, r) => guard('reply', (c) => c.onReply(id, r)), async (point) => {
    if (faults.get().pauseAfter !== point) return;
    const version = faults.version();
    log.warn({ point }, 'paused by the fault switch until run/faults.json changes');
    while (faults.version() === version) await new Promise((r) => setTimeout(r, 50));
  });
  const io: VacuumIo = {
    request: (body, timeoutMs) => dbd.request(body, timeoutMs),
    setTimer: (id, delayMs) => timers.set(id, delayMs),
    cancelTimer: (id) => timers.cancel(id),
    clock: wallClock,
  };
  core = new VacuumCore({
    io,
    state,
    log,
    settings: () => settingsFrom(cfg, tunables),
    onReport: (r) => metrics.onReport(r, Date.now()),
    // After each interval tick: the gauges of every db, also when no pass ran.
    onTick: () => {
      for (const db of core?.volatileDbs() ?? []) {
        const c = state.counts(db.dbId);
        metrics.setGauges(db.name, c.pending, c.oldestFirstSeenMs, Date.now());
      }
    },
    onTunables: (list) => applyTunables(list, tunables),
  });
  const debounce = new Debouncer(feedGrewDebounceMs, (dbId) => guard('feedGrew', (c) => c.wake(dbId)));
  const events = new EventsSubscriber(cfg.eventsSocket, log, {
    onFreeze: (frozen, generation) => guard('freeze', (c) => c.onFreezeEvent(frozen, generation)),
    onFeedGrew: (dbId) => debounce.request(dbId),
  });
  const control = new ControlSocket(join(cfg.runDir, 'vacuumd.sock'), log, (env) => serveControl(core!, env, fatal));
  await control.bind();
  const server = await serveMetrics(metrics.registry, cfg.nodeAddress, cfg.metricsPortBase + 1).catch((err: unknown) => {
    log.error({ err, port: cfg.metricsPortBase + 1 }, 'metrics endpoint not started');
    return undefined;
  });

  // The first tick now (pick up setvar changes, refresh dbs and freeze state, pass every db); the
  // core then arms its tick timer for VacuumInterval, or the earliest retry when sooner.
  guard('start', (c) => c.start());
  log.info({ socket: cfg.clientSocket, state: join(cfg.base, 'db', 'vacuumd.sqlite'), pending: state.totalPending() }, 'vacuumd started');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'vacuumd stopping');
    debounce.clear();
    // The running batch goes on (its replies and pace timer) until the core says it stopped.
    const stopped = new Promise<void>((resolve) => guard('stop', (c) => c.stop(resolve)));
    const waited = Promise.race([stopped, new Promise((r) => setTimeout(r, stopWaitMsMax))]);
    void waited.finally(() => {
      timers.clear();
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

/** The control socket's one request: answered when the core's VacuumNow reply comes. */
function serveControl(core: VacuumCore, env: Envelope, fatal: (err: InvariantError) => void): Promise<EnvelopeInit> {
  const now = env.vacuumNow;
  if (env.body !== 'vacuumNow' || !now) {
    return Promise.resolve({ error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `vacuumd serves only VacuumNow, not ${env.body ?? 'an empty body'}` } });
  }
  return new Promise((resolve, reject) => {
    try {
      core.vacuumNow(now.dbName ?? '', (a) => {
        if (a.ok) resolve({ vacuumNowReply: { dbs: a.dbs } });
        else if (a.error instanceof VacuumNowError) resolve({ error: { code: a.error.code, message: a.error.message } });
        else reject(a.error); // the control socket answers ERR_INTERNAL
      });
    } catch (err) {
      if (err instanceof InvariantError) fatal(err);
      reject(err);
    }
  });
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
