// The CLI rows, measured the same way on ctdb-ng (`ctdbng`) and on CTDB 4.17 (`ctdb`): one process
// per call, spawn to exit (spawn-timing.ts), as FIGURES.md §b. The same sequence on both sides:
//   `pnn` on node 0, n times;
//   writekey / readkey of a key whose lmaster and dmaster is node 0, from node 0, n times each;
//   writekey / readkey of a key with lmaster 0 from nodes 2 and 1 in turn (it migrates every call);
//   a writekey loop of `loopKeys` new keys on node 0 (as `bench.py writeloop`), into a db that
//   also holds one marker key, so that it then holds loopKeys + 1 records;
//   `catdb` of that db from node 1, stdout to /dev/null, n times (after one counted run).
import type { Figure } from './report.js';
import type { SpawnRun } from './spawn-timing.js';
import { spreadOf } from './stats.js';

export interface CliRunner {
  /** 'ctdbng' or 'ctdb'. */
  name: string;
  run(pnn: number, args: readonly string[], stdout?: 'pipe' | 'null'): SpawnRun;
}

export interface CliCallOptions {
  /** Calls per latency series, and catdb runs. */
  n: number;
  /** New keys of the writekey loop (the 300). */
  loopKeys: number;
}

export interface CliCallsResult {
  /** Each call's spawn-to-exit time, ms. */
  series: Record<CliSeries, number[]>;
  loop: { keys: number; callMs: number[] };
  catdb: { records: number; ms: number[] };
}

export type CliSeries = 'pnn' | 'writekeyLocal' | 'readkeyLocal' | 'writekeyRemote' | 'readkeyRemote';

export const latencyDb = 'lat.tdb';
export const loopDb = 'wloop.tdb';

/** The ids and labels of the CLI figures (the same on both sides, so they join). */
export const cliSeries: readonly { key: CliSeries; id: string; label: string }[] = [
  { key: 'pnn', id: 'cli.pnn', label: '`pnn` (spawn + connect + 1 control)' },
  { key: 'writekeyLocal', id: 'cli.writekey.local', label: 'writekey, local (dmaster = lmaster = caller, node 0)' },
  { key: 'readkeyLocal', id: 'cli.readkey.local', label: 'readkey, local (dmaster = lmaster = caller, node 0)' },
  { key: 'writekeyRemote', id: 'cli.writekey.remote', label: 'writekey, remote (callers alternate 2↔1, lmaster 0: a migration each)' },
  { key: 'readkeyRemote', id: 'cli.readkey.remote', label: 'readkey, remote (callers alternate 2↔1, lmaster 0)' },
];

function must(r: SpawnRun, cli: CliRunner, what: string): SpawnRun {
  if (r.status !== 0) throw new Error(`${cli.name} ${what} failed (exit ${r.status}): ${(r.stderr.trim() || r.stdout.trim()).slice(0, 500)}`);
  return r;
}

/** "Dumped N records" at the end of catdb (both CLIs print it). */
export function dumpedCount(out: string): number {
  const m = /Dumped (\d+) record/.exec(out);
  return m === null ? Number.NaN : Number(m[1]);
}

/**
 * Runs the whole sequence. `local` and `remote` are two keys whose lmaster is node 0 under the
 * runner's own hash (the caller picks them: CTDB hashes with Jenkins, ctdb-ng with FNV-1a).
 */
export function measureCliCalls(cli: CliRunner, keys: { local: string; remote: string }, o: CliCallOptions, log: (l: string) => void): CliCallsResult {
  const call = (pnn: number, args: string[]): number => must(cli.run(pnn, args), cli, args.join(' ')).ms;
  call(0, ['attach', latencyDb]);
  call(0, ['writekey', latencyDb, keys.local, 'init']);
  call(1, ['writekey', latencyDb, keys.remote, 'init']);
  const rep = (f: (i: number) => number): number[] => Array.from({ length: o.n }, (_, i) => f(i));
  const remote = (i: number): number => (i % 2 === 0 ? 2 : 1);
  const series: Record<CliSeries, number[]> = {
    pnn: rep(() => call(0, ['pnn'])),
    writekeyLocal: rep((i) => call(0, ['writekey', latencyDb, keys.local, `v${i}`])),
    readkeyLocal: rep(() => call(0, ['readkey', latencyDb, keys.local])),
    writekeyRemote: rep((i) => call(remote(i), ['writekey', latencyDb, keys.remote, `v${i}`])),
    readkeyRemote: rep((i) => call(remote(i), ['readkey', latencyDb, keys.remote])),
  };
  log(`  ${cli.name}: pnn median ${spreadOf(series.pnn).median.toFixed(1)} ms; writekey loop of ${o.loopKeys} new keys next`);

  call(0, ['attach', loopDb]);
  call(0, ['writekey', loopDb, 'marker', 'm']);
  const callMs = Array.from({ length: o.loopKeys }, (_, i) => {
    const k = `wk${String(i).padStart(8, '0')}`;
    return call(0, ['writekey', loopDb, k, `v${String(i).padStart(8, '0')}`]);
  });
  const counted = must(cli.run(1, ['catdb', loopDb]), cli, `catdb ${loopDb}`);
  const records = dumpedCount(counted.stdout);
  if (records !== o.loopKeys + 1) throw new Error(`${cli.name} catdb ${loopDb} shows ${records} records, expected ${o.loopKeys + 1}`);
  const catdbMs = rep(() => must(cli.run(1, ['catdb', loopDb], 'null'), cli, `catdb ${loopDb}`).ms);
  return { series, loop: { keys: o.loopKeys, callMs }, catdb: { records, ms: catdbMs } };
}

export interface CliFigureOptions {
  /** ctdb-ng's side: refer to the node-start floor and to CTDB's figures; CTDB's: neither. */
  side: 'ctdbng' | 'ctdb';
  /** Floor id of `node -e ''`. */
  nodeStartFloor?: string;
}

/** The figures of one side; ctdb-ng's carry floorRef (node start), ctdbRef (same id) and targets. */
export function cliFigures(r: CliCallsResult, o: CliFigureOptions): Figure[] {
  const ours = o.side === 'ctdbng';
  const refs = (id: string): Pick<Figure, 'floorRef' | 'ctdbRef'> =>
    ours ? { ctdbRef: id, ...(o.nodeStartFloor !== undefined ? { floorRef: o.nodeStartFloor } : {}) } : {};
  const figures: Figure[] = cliSeries.map((s) => {
    const sp = spreadOf(r.series[s.key]);
    return {
      id: s.id, label: `CLI ${s.label}, median of ${sp.n}`, value: sp.median, unit: 'ms', spread: sp, headline: true, ...refs(s.id),
      // issue 12: the median `ctdbng pnn` within 1.5× a bare `node -e ''` of the same run.
      ...(ours && s.key === 'pnn' ? { target: { op: '<=' as const, value: 1.5, on: 'floor' as const } } : {}),
    };
  });
  const loopSec = r.loop.callMs.reduce((a, b) => a + b, 0) / 1000;
  const perCall = spreadOf(r.loop.callMs);
  const rate: Figure = { id: 'cli.writeloop.rate', label: `CLI writekey loop, ${r.loop.keys} new keys on node 0 (keys / total time)`, value: r.loop.keys / loopSec, unit: 'keys/s', headline: true };
  if (ours) rate.ctdbRef = rate.id!;
  figures.push(rate, { id: 'cli.writeloop.call', label: 'CLI writekey loop: one call', value: perCall.median, unit: 'ms', spread: perCall, ...refs('cli.writeloop.call') });
  const cat = spreadOf(r.catdb.ms);
  figures.push({
    id: 'cli.catdb.small', label: `CLI \`catdb\` of ${r.catdb.records} records from node 1, >/dev/null`, value: cat.median, unit: 'ms', spread: cat, headline: true,
    ...refs('cli.catdb.small'),
  });
  return figures;
}
