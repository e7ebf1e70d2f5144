// migrate: a record whose lmaster is node 1, locked alternately by a client on node 0 and one on
// node 2, so that every fetch_lock migrates it (request to the lmaster, which sends it on to the
// dmaster, which hands the record over).
import { connect } from '@ctdbng/client';
import { commandLine, keysWithLmaster, lockStoreUnlock, portBases, secondsSince, timedLoop, valueBuffer, vnnmapOf, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { floorIds } from './floors.js';
import { fmtUs, opsPerSec, spreadUsOf, summarize } from './stats.js';

export interface MigrateOptions { ops: number; warmup: number; portBase?: number }

export async function migrateBench(o: CommonOptions, mo: MigrateOptions): Promise<BenchResult> {
  const portBase = mo.portBase ?? portBases.migrate;
  const args = ['migrate', '--ops', String(mo.ops), '--warmup', String(mo.warmup), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  o.log(`# migrate: ${mo.ops} x fetch_lock+store(unlock), clients on node 0 and node 2 alternate, lmaster node 1`);
  const figures: Figure[] = [];
  const notes: string[] = [];
  await withCluster(o, 'migrate', portBase, async (cluster) => {
    const c0 = await connect({ base: cluster.nodeBase(0), name: 'bench-migrate-0' });
    const c2 = await connect({ base: cluster.nodeBase(2), name: 'bench-migrate-2' });
    try {
      const key = keysWithLmaster('migrate', 1, await vnnmapOf(c0), 1)[0]!;
      const db0 = await c0.attach('bench_migrate.db');
      const db2 = await c2.attach('bench_migrate.db');
      const v = valueBuffer();
      const counters = async (): Promise<number> => {
        const [a, b] = await Promise.all([c0.statistics(), c2.statistics()]);
        return (a.counters['migrations_in'] ?? 0) + (b.counters['migrations_in'] ?? 0);
      };
      // Warm-up runs the same alternation; its migrations are not counted below.
      for (let i = 0; i < mo.warmup; i++) await lockStoreUnlock(i % 2 === 0 ? db0 : db2, key, v, i);
      const before = await counters();
      // The warm-up ended on one side; continue the alternation so every measured op migrates.
      const r = await timedLoop(mo.ops, 0, (i) => lockStoreUnlock((mo.warmup + i) % 2 === 0 ? db0 : db2, key, v, i));
      const migrations = (await counters()) - before;
      const s = summarize(r.samplesNs);
      figures.push(
        { id: 'migrate.p50', label: 'p50 fetch_lock+store+unlock with a migration', value: s.p50Us, unit: 'us', spread: spreadUsOf(s), headline: true,
          // issue 12: within 1.5× of the bare prototype of the same hops (floors).
          floorRef: `${floorIds.migration}.p50`, target: { op: '<=', value: 1.5, on: 'floor' },
          ctdbConstant: { value: 162, source: 'FLOOR.md §2', what: 'fetch_ring -n 3: ONE hop (a migration through ctdbd + a message), 150–175 µs; not the same operation' } },
        { id: 'migrate.p99', label: 'p99', value: s.p99Us, unit: 'us', floorRef: `${floorIds.migration}.p99` },
        { id: 'migrate.rate', label: 'rate', value: opsPerSec(mo.ops, r.endNs - r.startNs), unit: 'ops/s', headline: true },
      );
      notes.push(`migrations_in on nodes 0+2 during the measured ops: ${migrations} for ${mo.ops} ops (${(migrations / mo.ops).toFixed(2)} per op)`);
      notes.push(`mean ${fmtUs(s.meanUs)}, min ${fmtUs(s.minUs)}, max ${fmtUs(s.maxUs)}`);
    } finally {
      await Promise.allSettled([c0.close(), c2.close()]);
    }
  });
  return { bench: 'migrate', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
