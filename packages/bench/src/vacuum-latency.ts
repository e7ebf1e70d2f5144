// vacuum-latency: does vacuuming disturb clients (DESIGN §4.7)? p99 of fetch_lock+store+unlock
// of a local record (lmaster = dmaster = node 0, client on node 0) while vacuumd purges T
// tombstones (default 50,000), against its idle p99 (the same loop before the deletes); and
// vacuumd's resident memory meanwhile.
//
// Setup: T records created on their lmasters, then one `ctdbng recover` so every node holds them
// all (the purge must then reach every node: StoreTombstone + TryDelete on each member). Idle
// window: `--ops` operations. Then vacuumd is paused (SIGSTOP) on every node, the T records are
// deleted through node 0, and vacuumd is resumed (SIGCONT): the vacuum window runs from the
// resume until ctdbng_vacuum_pending_records is 0 on every node and the nodes have purged (or
// dropped) T items, so it holds the purge and not the client load of the deletes. `--no-pause`
// deletes with vacuumd running and measures from the first delete instead. The same metrics
// poller and memory sampler run in both windows, so the loop sees the same load from this process.
//
// `--path both` (default) alternates two clients on node 0, each with its own key: the ZeroMQ
// path, and shared access (connect({ sharedAccess: true })); every sample counts for its path.
import { connect, type Client, type Db } from '@ctdbng/client';
import {
  benchKey, busyRetries, bucketByLmaster, deleteKeys, fillNode, metricsAddress, metricSum, residentMiB, scrapeMetrics, sleep, spreadWithRecovery,
  vacuumdPid, type Sample,
} from './cluster-ops.js';
import { commandLine, keysWithLmaster, lockStoreUnlock, portBases, secondsSince, valueBuffer, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { fmtUs, summarize } from './stats.js';

export type LatencyPath = 'zmq' | 'shared';
export interface VacuumLatencyOptions {
  tombstones: number;
  ops: number;
  warmup: number;
  paths: LatencyPath[];
  pause: boolean;
  window: number;
  timeoutSec: number;
  portBase?: number;
}

interface Lane { path: LatencyPath; db: Db; key: string; value: Buffer; samples: number[]; viaDbd: number }

/** Memory of every node's vacuumd, sampled. */
class RssSampler {
  maxRss = 0;
  samples = 0;
  constructor(readonly pids: readonly number[]) {}
  sample(): void {
    for (const pid of this.pids) {
      const m = residentMiB(pid);
      if (m !== undefined && Number.isFinite(m.rss)) this.maxRss = Math.max(this.maxRss, m.rss);
    }
    this.samples++;
  }
  hwm(): number[] {
    return this.pids.map((pid) => residentMiB(pid)?.hwm ?? Number.NaN);
  }
}

/**
 * Runs the lanes in turn, one operation at a time, until `stop()` says so (checked every op);
 * a background poller scrapes every node's vacuumd metrics and samples memory every `pollMs`.
 */
async function window(lanes: Lane[], stop: (ops: number, latest: Sample[][] | undefined) => boolean,
  scrapeAll: () => Promise<Sample[][]>, rss: RssSampler, pollMs = 50): Promise<{ sec: number; ops: number }> {
  let latest: Sample[][] | undefined;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      rss.sample();
      try {
        latest = await scrapeAll();
      } catch {
        // a failed scrape: keep the previous one
      }
      await sleep(pollMs);
    }
  })();
  const t0 = process.hrtime.bigint();
  busyRetries.count = 0;
  let ops = 0;
  try {
    while (!stop(ops, latest)) {
      const lane = lanes[ops % lanes.length]!;
      const t = process.hrtime.bigint();
      if ((await lockStoreUnlock(lane.db, lane.key, lane.value, ops)) === 'dbd') lane.viaDbd++;
      lane.samples.push(Number(process.hrtime.bigint() - t));
      ops++;
    }
  } finally {
    polling = false;
    await poller;
  }
  return { sec: secondsSince(t0), ops };
}

export async function vacuumLatencyBench(o: CommonOptions, vo: VacuumLatencyOptions): Promise<BenchResult> {
  const portBase = vo.portBase ?? portBases['vacuum-latency'];
  const args = ['vacuum-latency', '--tombstones', String(vo.tombstones), '--ops', String(vo.ops), '--warmup', String(vo.warmup),
    '--path', vo.paths.length === 2 ? 'both' : vo.paths[0]!, ...(vo.pause ? [] : ['--no-pause']), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  o.log(`# vacuum-latency: fetch_lock+store+unlock p99 on node 0, idle vs while vacuumd purges ${vo.tombstones} tombstones; vacuumd memory`);
  const figures: Figure[] = [];
  const notes: string[] = [];
  const dbName = 'bench_vaclat.db';
  await withCluster(o, 'vacuum-latency', portBase, async (cluster) => {
    const clients: Client[] = [];
    const pids = Array.from({ length: cluster.nodes }, (_, p) => vacuumdPid(cluster.nodeBase(p)));
    let paused = false;
    const signalAll = (sig: NodeJS.Signals): void => { for (const pid of pids) process.kill(pid, sig); };
    try {
      for (let p = 0; p < cluster.nodes; p++) clients.push(await connect({ base: cluster.nodeBase(p), name: `bench-vaclat-${p}`, timeoutMs: 120_000 }));
      const vnnmap = await vnnmapOf(clients[0]!);
      await clients[0]!.attach(dbName);
      const dbs = await Promise.all(clients.map((c) => c.attach(dbName)));
      const keys = Array.from({ length: vo.tombstones }, (_, i) => benchKey(i));
      const buckets = bucketByLmaster(keys, vnnmap, cluster.nodes);
      const tf = process.hrtime.bigint();
      await Promise.all(dbs.map((db, p) => fillNode(db, buckets[p]!, vo.window)));
      const spread = await spreadWithRecovery(cluster, dbs, vo.tombstones);
      o.log(`  ${vo.tombstones} records filled and spread in ${secondsSince(tf).toFixed(2)} s (${spread.counts.join(' / ')} per node)`);

      // The measured clients, on node 0; each path has its own key (lmaster 0), created first.
      const lanes: Lane[] = [];
      const loopKeys = keysWithLmaster('vaclat', 0, vnnmap, 2);
      for (const [i, path] of vo.paths.entries()) {
        const c = path === 'zmq' ? clients[0]! : await connect({ base: cluster.nodeBase(0), sharedAccess: true, name: 'bench-vaclat-shared' });
        if (path === 'shared') clients.push(c);
        const db = path === 'zmq' ? dbs[0]! : await c.attach(dbName);
        await lockStoreUnlock(dbs[0]!, loopKeys[i]!, valueBuffer(), 0); // creates it (shared access cannot)
        lanes.push({ path, db, key: loopKeys[i]!, value: valueBuffer(), samples: [], viaDbd: 0 });
      }
      const addrs = Array.from({ length: cluster.nodes }, (_, p) => metricsAddress(p, portBase, 'vacuumd'));
      const scrapeAll = (): Promise<Sample[][]> => Promise.all(addrs.map((a) => scrapeMetrics(a.host, a.port)));
      const base = await scrapeAll();

      // Warm-up, then the idle window.
      const idleRss = new RssSampler(pids);
      await window(lanes, (n) => n >= vo.warmup * lanes.length, scrapeAll, idleRss);
      for (const l of lanes) { l.samples = []; l.viaDbd = 0; }
      const idle = await window(lanes, (n) => n >= vo.ops * lanes.length, scrapeAll, idleRss);
      const idleStats = lanes.map((l) => ({ path: l.path, s: summarize(l.samples), viaDbd: l.viaDbd }));
      o.log(`  idle: ${idleStats.map((x) => `${x.path} p50 ${fmtUs(x.s.p50Us)} p99 ${fmtUs(x.s.p99Us)}`).join('; ')} (${idle.ops} ops in ${idle.sec.toFixed(2)} s)`);
      const idleRssMax = idleRss.maxRss;

      // The deletes: with vacuumd paused (default), so that the window below holds only the purge.
      for (const l of lanes) { l.samples = []; l.viaDbd = 0; }
      const busyRss = new RssSampler(pids);
      let done = false;
      let lastProgress = '';
      const stopWhenPurged = (_n: number, latest: Sample[][] | undefined): boolean => {
        if (done) return true;
        if (latest === undefined) return false;
        const pending = latest.map((s) => metricSum(s, 'ctdbng_vacuum_pending_records', { db: dbName }));
        let purged = 0;
        latest.forEach((s, p) => {
          for (const m of ['ctdbng_vacuum_purged_total', 'ctdbng_vacuum_dropped_total']) purged += metricSum(s, m, { db: dbName }) - metricSum(base[p]!, m, { db: dbName });
        });
        lastProgress = `pending per node ${pending.join(' / ')}, purged+dropped ${purged}`;
        done = pending.every((x) => x === 0) && purged >= vo.tombstones;
        return done;
      };
      let busy: { sec: number; ops: number };
      let deleteSec = 0;
      const deadline = (): (n: number, l: Sample[][] | undefined) => boolean => {
        const end = Date.now() + vo.timeoutSec * 1000;
        return (n, l) => stopWhenPurged(n, l) || Date.now() > end;
      };
      if (vo.pause) {
        signalAll('SIGSTOP');
        paused = true;
        const td = process.hrtime.bigint();
        await deleteKeys(dbs[0]!, keys, vo.window);
        deleteSec = secondsSince(td);
        o.log(`  ${vo.tombstones} deletes through node 0 in ${deleteSec.toFixed(2)} s with vacuumd paused; resuming vacuumd`);
        signalAll('SIGCONT');
        paused = false;
        busy = await window(lanes, deadline(), scrapeAll, busyRss);
      } else {
        const td = process.hrtime.bigint();
        let deletesDone = false;
        const deletes = deleteKeys(dbs[0]!, keys, vo.window).then(() => { deletesDone = true; deleteSec = secondsSince(td); });
        deletes.catch(() => { deletesDone = true; });
        const stop = deadline();
        busy = await window(lanes, (n, l) => deletesDone && stop(n, l), scrapeAll, busyRss);
        await deletes;
      }
      const busyStats = lanes.map((l) => ({ path: l.path, s: summarize(l.samples), viaDbd: l.viaDbd }));
      o.log(`  vacuuming: ${busyStats.map((x) => `${x.path} p50 ${fmtUs(x.s.p50Us)} p99 ${fmtUs(x.s.p99Us)}`).join('; ')} (${busy.ops} ops in ${busy.sec.toFixed(2)} s)${done ? '' : ` — NOT purged within ${vo.timeoutSec} s: ${lastProgress}`}`);
      const hwm = busyRss.hwm();

      for (const [i, l] of lanes.entries()) {
        const iS = idleStats[i]!.s;
        const bS = busyStats[i]!.s;
        const ratio = bS.p99Us / iS.p99Us;
        figures.push(
          { id: `vacuum-latency.${l.path}.p99-ratio`, label: `${l.path}: p99 while vacuumd purges ${vo.tombstones.toLocaleString('en-US')} tombstones / idle p99`, value: ratio, unit: 'ratio', target: { op: '<=', value: 2 }, headline: true },
          { label: `${l.path}: idle p99`, value: iS.p99Us, unit: 'us' },
          { label: `${l.path}: p99 while vacuumd purges ${vo.tombstones.toLocaleString('en-US')} tombstones`, value: bS.p99Us, unit: 'us' },
          { label: `${l.path}: p50 while vacuuming`, value: bS.p50Us, unit: 'us' },
        );
        notes.push(`${l.path}: idle p50 ${fmtUs(iS.p50Us)}, p99 ${fmtUs(iS.p99Us)}, max ${fmtUs(iS.maxUs)} (${iS.n} ops); vacuuming p50 ${fmtUs(bS.p50Us)}, p99 ${fmtUs(bS.p99Us)}, max ${fmtUs(bS.maxUs)} (${bS.n} ops)`
          + (l.path === 'shared' ? `; locks that fell back to dbd: idle ${idleStats[i]!.viaDbd}, vacuuming ${busyStats[i]!.viaDbd}` : ''));
      }
      const peak = Math.max(busyRss.maxRss, ...hwm.filter(Number.isFinite));
      figures.push(
        { id: 'vacuum-latency.vacuumd-rss-peak', label: `vacuumd resident memory, peak over the 3 nodes while purging ${vo.tombstones.toLocaleString('en-US')} (VmRSS samples and VmHWM)`, value: peak, unit: 'MiB', target: { op: '<=', value: 60 }, headline: true },
        { label: 'vacuumd VmRSS, highest sample while idle', value: idleRssMax, unit: 'MiB' },
      );
      notes.push(`vacuum window ${busy.sec.toFixed(2)} s, ${busy.ops} ops (${vo.pause ? 'from SIGCONT of the paused vacuumd' : 'from the first delete, vacuumd running'} until pending 0 everywhere${done ? '' : `: NOT reached within ${vo.timeoutSec} s, ${lastProgress}`}); deletes ${deleteSec.toFixed(2)} s`);
      notes.push(`vacuumd VmHWM per node ${hwm.map((x) => x.toFixed(1)).join(' / ')} MiB; highest VmRSS sample while purging ${busyRss.maxRss.toFixed(1)} MiB (${busyRss.samples} samples)`);
      if (busy.ops < 1_000) notes.push(`WARNING: only ${busy.ops} operations in the vacuum window: the p99 is coarse`);
      if (!done) notes.push('WARNING: the purge did not finish: the window ended at the timeout');
    } finally {
      if (paused) { try { signalAll('SIGCONT'); } catch { /* gone */ } }
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  });
  if (busyRetries.count > 0) notes.push(`dbd answered ERR_BUSY ${busyRetries.count} times during fill/deletes (retried)`);
  return { bench: 'vacuum-latency', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
