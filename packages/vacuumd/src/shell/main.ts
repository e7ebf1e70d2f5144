#!/usr/bin/env node
// ctdbng-vacuumd: the vacuuming daemon of one node (DESIGN §4). Reads $CTDBNG_BASE/ctdbng.conf,
// opens its own state file ($CTDBNG_BASE/db/vacuumd.sqlite), connects to dbd's client and events
// sockets, binds its control socket (run/vacuumd.sock) and serves metrics on metrics port + 1.
// SIGTERM/SIGINT: stop starting work, let the running batch finish (its state-file transaction
// is synchronous, so it is whole), close, exit 0.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { baseFromEnv, createLogger, FaultSwitch, faultsPath, InvariantError, loadNodeConfig, serveMetrics, setTunable, type NodeConfig, type TunableValues } from '@ctdbng/common';
import { ErrorCode, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import { StateFile } from '../core/state-file.js';
import { VacuumCore, VacuumNowError } from '../core/vacuum-core.js';
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

function settingsFrom(cfg: NodeConfig, t: TunableValues): VacuumSettings {
  return {
    pnn: cfg.pnn,
    batchSizeCount: t.vacuumBatchSizeCount,
    fullScanIntervalMs: t.vacuumFullScanIntervalSeconds * 1000,
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
  const conn = new DbdConnection(cfg.clientSocket, () => tunables.controlTimeoutMs, log);
  const faults = new FaultSwitch(faultsPath(cfg.runDir));
  const dbd = new DbdAdapter(conn, async (point) => {
    if (faults.get().pauseAfter !== point) return;
    const version = faults.version();
    log.warn({ point }, 'paused by the fault switch until run/faults.json changes');
    while (faults.version() === version) await new Promise((r) => setTimeout(r, 50));
  });
  const metrics = new VacuumMetrics();
  const fatal = (err: InvariantError): void => {
    log.fatal({ err }, 'invariant broken');
    log.flush();
    process.exit(70);
  };
  const core = new VacuumCore({
    dbd,
    state,
    clock: { nowMs: () => Date.now(), sleepMs: (ms) => new Promise((r) => setTimeout(r, ms)) },
    log,
    settings: () => settingsFrom(cfg, tunables),
    onReport: (r) => metrics.onReport(r, Date.now()),
    onFatal: fatal,
  });
  const debounce = new Debouncer(feedGrewDebounceMs, (dbId) => core.wake(dbId));
  const events = new EventsSubscriber(cfg.eventsSocket, log, {
    onFreeze: (frozen, generation) => core.onFreezeEvent(frozen, generation),
    onFeedGrew: (dbId) => debounce.request(dbId),
  });
  const control = new ControlSocket(join(cfg.runDir, 'vacuumd.sock'), log, (env) => serveControl(core, env));
  await control.bind();
  const server = await serveMetrics(metrics.registry, cfg.nodeAddress, cfg.metricsPortBase + 1).catch((err: unknown) => {
    log.error({ err, port: cfg.metricsPortBase + 1 }, 'metrics endpoint not started');
    return undefined;
  });

  // The interval tick: pick up setvar changes, refresh dbs and freeze state, pass every db; then a
  // timer for the earliest retry, so backoffs shorter than VacuumInterval are honoured.
  let tickTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const tick = async (): Promise<void> => {
    await refreshTunables(conn, tunables);
    await core.tick();
    for (const db of core.volatileDbs()) {
      const c = state.counts(db.dbId);
      metrics.setGauges(db.name, c.pending, c.oldestFirstSeenMs, Date.now());
    }
    if (stopping) return;
    const intervalMs = tunables.vacuumIntervalSeconds * 1000;
    const due = core.nextDueMs();
    const delayMs = due === undefined ? intervalMs : Math.min(intervalMs, Math.max(10, due - Date.now()));
    tickTimer = setTimeout(() => void tick().catch(onTickError), delayMs);
  };
  const onTickError = (err: unknown): void => {
    if (err instanceof InvariantError) fatal(err);
    log.error({ err }, 'vacuum tick failed');
    if (!stopping) tickTimer = setTimeout(() => void tick().catch(onTickError), tunables.vacuumIntervalSeconds * 1000);
  };
  void tick().catch(onTickError);
  log.info({ socket: cfg.clientSocket, state: join(cfg.base, 'db', 'vacuumd.sqlite'), pending: state.totalPending() }, 'vacuumd started');

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'vacuumd stopping');
    clearTimeout(tickTimer);
    debounce.clear();
    const waited = Promise.race([core.stop(), new Promise((r) => setTimeout(r, stopWaitMsMax))]);
    void waited.finally(() => {
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

/** The control socket's one request. */
async function serveControl(core: VacuumCore, env: Envelope): Promise<EnvelopeInit> {
  if (env.body !== 'vacuumNow' || !env.vacuumNow) {
    return { error: { code: ErrorCode.ERR_UNKNOWN_TYPE, message: `vacuumd serves only VacuumNow, not ${env.body ?? 'an empty body'}` } };
  }
  try {
    const dbs = await core.vacuumNow(env.vacuumNow.dbName ?? '');
    return { vacuumNowReply: { dbs } };
  } catch (err) {
    if (err instanceof VacuumNowError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}

/** Vacuum tunables may change at run time (setvar on dbd): read dbd's values each tick. */
async function refreshTunables(conn: DbdConnection, into: TunableValues): Promise<void> {
  try {
    const list = await conn.request({ listTunables: {} }, 'tunableList');
    for (const t of list.tunables as { name: string; value: number }[]) {
      if (t.name.startsWith('Vacuum') || t.name === 'ControlTimeout') setTunable(into, t.name, t.value);
    }
  } catch {
    // dbd not answering or a value refused: keep the values we have; the next tick asks again.
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ctdbng-vacuumd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
