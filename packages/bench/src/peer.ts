// peer: the same measurements against a real Samba CTDB 4.17 (../shared/peer-ctdb) and ctdb-ng,
// one after the other in one run: cluster start (up.sh --fresh 3, as bench.py startup) and the
// per-call latency of the CLIs (`ctdb writekey/readkey` vs `ctdbng writekey/readkey`, process
// spawn included, as FIGURES.md §b). The peer is always taken down at the end (down.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ctdbngBin } from './cli-paths.js';
import { commandLine, keysWithLmaster, portBases, secondsSince, withCluster, type CommonOptions } from './common.js';
import type { BenchResult, Figure } from './report.js';
import { median } from './stats.js';
import { startupRuns } from './startup.js';

export const peerDirDefault = '/work/shared/peer-ctdb';

export interface PeerOptions { runs: number; n: number; peerDir: string; portBase?: number }

interface Call { pnn: number; args: string[] }
interface Series { label: string; calls: Call[] }
type Runner = (c: Call) => void;

function timeSeries(run: Runner, s: Series): number {
  const ts: number[] = [];
  for (const c of s.calls) {
    const t0 = process.hrtime.bigint();
    run(c);
    ts.push(secondsSince(t0) * 1e6);
  }
  return median(ts);
}

function seriesFor(db: string, local: string, remote: string, n: number): Series[] {
  const rep = (f: (i: number) => Call): Call[] => Array.from({ length: n }, (_, i) => f(i));
  return [
    { label: 'baseline `pnn` (spawn + connect + 1 control)', calls: rep(() => ({ pnn: 0, args: ['pnn'] })) },
    { label: 'writekey, local (dmaster = lmaster = caller, node 0)', calls: rep((i) => ({ pnn: 0, args: ['writekey', db, local, `v${i}`] })) },
    { label: 'readkey, local (dmaster = lmaster = caller, node 0)', calls: rep(() => ({ pnn: 0, args: ['readkey', db, local] })) },
    { label: 'writekey, remote (callers alternate 2↔1, lmaster 0)', calls: rep((i) => ({ pnn: i % 2 === 0 ? 2 : 1, args: ['writekey', db, remote, `v${i}`] })) },
    { label: 'readkey, remote (callers alternate 2↔1, lmaster 0)', calls: rep((i) => ({ pnn: i % 2 === 0 ? 2 : 1, args: ['readkey', db, remote] })) },
  ];
}

function must(r: ReturnType<typeof spawnSync>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${String(r.stderr ?? '').trim()} ${String(r.stdout ?? '').trim()}`.slice(0, 2000));
  return String(r.stdout ?? '');
}

/** Why the peer cannot run here, or undefined. */
export function peerUnavailable(peerDir: string): string | undefined {
  if (!existsSync('/usr/sbin/ctdbd') || !existsSync('/usr/bin/ctdb')) return 'ctdb is not installed (/usr/sbin/ctdbd, /usr/bin/ctdb missing; `apt-get install -y ctdb`)';
  if (process.getuid?.() !== 0) return 'not root (ctdbd needs root and port 4379 on 127.0.0.1-3)';
  if (!existsSync(join(peerDir, 'up.sh'))) return `no ${peerDir}/up.sh`;
  return undefined;
}

export async function peerBench(o: CommonOptions, po: PeerOptions): Promise<BenchResult> {
  const portBase = po.portBase ?? portBases.peer;
  const command = commandLine(['peer', '--runs', String(po.runs), '--n', String(po.n), '--peer-dir', po.peerDir, '--port-base', String(portBase)]);
  const t0 = process.hrtime.bigint();
  const why = peerUnavailable(po.peerDir);
  if (why !== undefined) {
    o.log(`# peer: skipped: ${why}`);
    return { bench: 'peer', command, figures: [], notes: [], skipped: why };
  }
  const notes: string[] = [];
  const peerBase = process.env['CTDB_PEER_BASE'] ?? '/tmp/ctdb-peer';
  const sh = (script: string, ...a: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(join(po.peerDir, script), a, { encoding: 'utf8', maxBuffer: 64 << 20 });

  // ---- CTDB 4.17 ----
  o.log(`# peer: CTDB 4.17 in ${peerBase}: ${po.runs} x (down.sh; up.sh --fresh 3), then CLI latency n=${po.n}`);
  const ctdbStart: number[] = [];
  const ctdbStartWall: number[] = [];
  let ctdbLat: number[] = [];
  const dbName = 'lat.tdb';
  try {
    for (let r = 0; r < po.runs; r++) {
      sh('down.sh');
      const tu = process.hrtime.bigint();
      const u = sh('up.sh', '--fresh', '3');
      const wall = secondsSince(tu);
      const out = must(u, 'up.sh --fresh 3');
      const m = /OK after ([0-9.]+) s/.exec(out);
      if (!m) throw new Error(`up.sh printed no "OK after": ${out.slice(0, 500)}`);
      ctdbStart.push(Number(m[1]));
      ctdbStartWall.push(wall);
      o.log(`  CTDB run ${r + 1}: up.sh says ${m[1]} s (wall ${wall.toFixed(3)} s)`);
    }
    const ctdbRun: Runner = (c) => {
      must(spawnSync('/usr/bin/ctdb', c.args, {
        env: { ...process.env, CTDB_TEST_MODE: 'yes', CTDB_BASE: `${peerBase}/node.${c.pnn}` }, encoding: 'utf8',
      }), `ctdb ${c.args.join(' ')} on node ${c.pnn}`);
    };
    ctdbRun({ pnn: 0, args: ['attach', dbName] });
    const lm = must(spawnSync('python3', [join(po.peerDir, 'ctdbkeys.py'), 'lmaster', '--nodes', '3', ...Array.from({ length: 40 }, (_, i) => `latkey${i}`)], { encoding: 'utf8' }), 'ctdbkeys.py lmaster');
    const k0 = lm.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === '0').map((f) => f[0]!);
    if (k0.length < 2) throw new Error('ctdbkeys.py found fewer than 2 keys with lmaster 0');
    ctdbRun({ pnn: 0, args: ['writekey', dbName, k0[0]!, 'init'] });
    ctdbRun({ pnn: 1, args: ['writekey', dbName, k0[1]!, 'init'] });
    ctdbLat = seriesFor(dbName, k0[0]!, k0[1]!, po.n).map((s) => timeSeries(ctdbRun, s));
  } finally {
    const d = sh('down.sh');
    o.log(`  peer down.sh: exit ${d.status}`);
  }

  // ---- ctdb-ng ----
  o.log(`# peer: ctdb-ng: ${po.runs} x ctdbng-cluster up -n 3 --fresh, then CLI latency n=${po.n}`);
  const ours = await startupRuns(o, po.runs, portBase, 'peer-startup');
  let ourLat: number[] = [];
  await withCluster(o, 'peer-latency', portBase, async (cluster) => {
    const bin = ctdbngBin();
    const run: Runner = (c) => {
      must(spawnSync(process.execPath, [bin, ...c.args], { env: { ...process.env, CTDBNG_BASE: cluster.nodeBase(c.pnn) }, encoding: 'utf8' }),
        `ctdbng ${c.args.join(' ')} on node ${c.pnn}`);
    };
    run({ pnn: 0, args: ['attach', dbName] });
    const probe = await cluster.clientFor(0, { name: 'bench-peer-probe' });
    const map = (await probe.getVnnMap()).pnns;
    await probe.close();
    const k0 = keysWithLmaster('latkey', 0, map, 2);
    run({ pnn: 0, args: ['writekey', dbName, k0[0]!, 'init'] });
    run({ pnn: 1, args: ['writekey', dbName, k0[1]!, 'init'] });
    ourLat = seriesFor(dbName, k0[0]!, k0[1]!, po.n).map((s) => timeSeries(run, s));
  });

  const figures: Figure[] = [
    { label: `cluster start, 3 nodes (median of ${po.runs}; ctdb-ng: CLI wall time; CTDB: up.sh's own figure)`, value: median(ours.wallSec), unit: 's', headline: true,
      ctdb: { value: median(ctdbStart), source: 'measured', what: `up.sh --fresh 3 (wall ${median(ctdbStartWall).toFixed(3)} s)` } },
  ];
  const labels = seriesFor(dbName, 'a', 'b', 1).map((s) => s.label);
  labels.forEach((label, i) => {
    figures.push({ label: `CLI ${label}, median of ${po.n}`, value: ourLat[i]!, unit: 'us', headline: i > 0,
      ctdb: { value: ctdbLat[i]!, source: 'measured', what: '/usr/bin/ctdb, same call' } });
  });
  notes.push(`ctdb-ng start runs: ${ours.wallSec.map((s) => s.toFixed(3)).join(', ')} s; CTDB: ${ctdbStart.map((s) => s.toFixed(3)).join(', ')} s`);
  notes.push('CLI calls are one process each, spawn included (ctdb: C binary; ctdbng: node + the JS CLI).');
  return { bench: 'peer', command, figures, notes, elapsedSec: secondsSince(t0) };
}
