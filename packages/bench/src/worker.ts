// Load from several processes: the parent forks `main.js _worker <json>`; each child connects its
// clients, warms up, says 'ready', waits for 'go', runs its loops (one per connection, all at
// once) and reports its samples' summary and its start/end on the host's monotonic clock
// (process.hrtime.bigint() is CLOCK_MONOTONIC, the same in every process), so the parent can
// compute the combined rate over the union of the windows.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@ctdbng/client';
import { lockStoreUnlock, timedLoop, valueBuffer, type LoopResult } from './common.js';
import { summarize, type LatencySummary } from './stats.js';

export interface WorkerConfig {
  /** The node's CTDBNG_BASE. */
  base: string;
  db: string;
  /** One connection per key; each loops on its own key. */
  keys: string[];
  sharedAccess: boolean;
  /** Measured operations per connection. */
  ops: number;
  warmup: number;
}

export interface WorkerReport {
  ops: number;
  startNs: string;
  endNs: string;
  shared: number;
  latency: LatencySummary;
  /** Samples of every connection, for the parent's combined percentiles. */
  samplesNs: number[];
}

type ToParent = { type: 'ready' } | { type: 'done'; report: WorkerReport } | { type: 'error'; message: string };

/** The child side (`main.js _worker <json>`). */
export async function runWorker(cfg: WorkerConfig): Promise<void> {
  const send = (m: ToParent): Promise<void> => new Promise((res) => process.send!(m, () => res()));
  try {
    const clients = await Promise.all(cfg.keys.map((_, i) => connect({ base: cfg.base, sharedAccess: cfg.sharedAccess, name: `bench-worker-${process.pid}-${i}` })));
    try {
      const dbs = await Promise.all(clients.map((c) => c.attach(cfg.db)));
      const go = new Promise<void>((res) => process.once('message', () => res()));
      // Warm up (and create the records) before the common start.
      await Promise.all(dbs.map(async (db, i) => {
        const v = valueBuffer();
        for (let j = 0; j < cfg.warmup; j++) await lockStoreUnlock(db, cfg.keys[i]!, v, j);
      }));
      await send({ type: 'ready' });
      await go;
      const loops: LoopResult[] = await Promise.all(dbs.map((db, i) => {
        const v = valueBuffer();
        return timedLoop(cfg.ops, 0, (j) => lockStoreUnlock(db, cfg.keys[i]!, v, j));
      }));
      const all = loops.flatMap((l) => Array.from(l.samplesNs));
      const startNs = loops.reduce((m, l) => (l.startNs < m ? l.startNs : m), loops[0]!.startNs);
      const endNs = loops.reduce((m, l) => (l.endNs > m ? l.endNs : m), loops[0]!.endNs);
      await send({
        type: 'done',
        report: {
          ops: all.length, startNs: String(startNs), endNs: String(endNs),
          shared: loops.reduce((s, l) => s + l.shared, 0), latency: summarize(all), samplesNs: all,
        },
      });
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  } catch (err) {
    await send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
  process.disconnect();
}

export interface MultiResult {
  reports: WorkerReport[];
  /** Total ops over (latest end − earliest start). */
  combinedOpsPerSec: number;
  totalOps: number;
  windowNs: number;
}

/** The parent side: forks one child per config, starts them together, collects their reports. */
export async function runWorkers(cfgs: readonly WorkerConfig[]): Promise<MultiResult> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const children = cfgs.map((cfg) => fork(main, ['_worker', JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const waitFor = (type: 'ready' | 'done'): Promise<ToParent[]> => Promise.all(children.map((ch) => new Promise<ToParent>((res, rej) => {
      const onMsg = (m: ToParent): void => {
        if (m.type === 'error') { cleanup(); rej(new Error(`worker ${ch.pid}: ${m.message}`)); return; }
        if (m.type === type) { cleanup(); res(m); }
      };
      const onExit = (code: number | null): void => { cleanup(); rej(new Error(`worker ${ch.pid} exited (${code}) before '${type}'`)); };
      const cleanup = (): void => { ch.off('message', onMsg); ch.off('exit', onExit); };
      ch.on('message', onMsg);
      ch.once('exit', onExit);
    })));
    await waitFor('ready');
    const done = waitFor('done');
    for (const ch of children) ch.send('go');
    const reports = (await done).map((m) => (m as { report: WorkerReport }).report);
    const start = reports.reduce((m, r) => (BigInt(r.startNs) < m ? BigInt(r.startNs) : m), BigInt(reports[0]!.startNs));
    const end = reports.reduce((m, r) => (BigInt(r.endNs) > m ? BigInt(r.endNs) : m), BigInt(reports[0]!.endNs));
    const totalOps = reports.reduce((s, r) => s + r.ops, 0);
    const windowNs = Number(end - start);
    return { reports, totalOps, windowNs, combinedOpsPerSec: (totalOps * 1e9) / windowNs };
  } finally {
    // A child exits once it has closed its clients; give it a moment, then make sure.
    await Promise.all(children.map((ch) => new Promise<void>((res) => {
      if (ch.exitCode !== null || ch.signalCode !== null) { res(); return; }
      const t = setTimeout(() => { ch.kill('SIGTERM'); res(); }, 5_000);
      ch.once('exit', () => { clearTimeout(t); res(); });
    })));
  }
}
