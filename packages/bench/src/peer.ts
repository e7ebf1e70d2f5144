// `peer` (result bench 'ctdb'): CTDB 4.17's side of every row that CTDB can do, measured in this
// run on ../shared/peer-ctdb, with the same method as ctdb-ng's side:
//   start      R × (down.sh --wipe; up.sh --fresh 3), timed with readiness.ts's criterion (the
//              same poller as ctdb-ng's `startup`), plus up.sh's own "OK after" and `ctdb uptime`;
//   idle       the CPU of every ctdbd tree (proc-cpu.ts), as `idle`;
//   CLI        cli-calls.ts with /usr/bin/ctdb, as `cli`;
//   populate   bench.py populate (restoredb, catdb, recoveries with uptime's duration), then
//              `ctdb catdb` to /dev/null from node 1, as `traverse`'s CLI row;
//   vacuum     bench.py vacuum per variant and VacuumInterval (10 = CTDB's default, and 1);
//   16 nodes   up.sh --fresh 16 with the same criterion, then idle.
// down.sh always runs at the end. Every step that fails leaves a note and the others still run.
import { commandLine, secondsSince, type CommonOptions } from './common.js';
import { cliFigures, measureCliCalls } from './cli-calls.js';
import { idleFigures, idleWindows } from './idle.js';
import {
  ctdbCli, ctdbdPid, ctdbEnv, ctdbKeysWithLmaster, mustScript, parsePopulate, parseUpOkAfter, parseUptimeDuration, parseVacuum, peerBase,
  peerDirDefault, peerUnavailable, runScript,
} from './peer-ctdb.js';
import { sleep } from './cluster-ops.js';
import { ctdbProbe, timeStart } from './readiness.js';
import type { BenchResult, Figure } from './report.js';
import { timeSpawn } from './spawn-timing.js';
import { spreadOf } from './stats.js';
import type { VacuumVariant } from './vacuum.js';

export { peerDirDefault, peerUnavailable };

export interface PeerOptions {
  peerDir: string;
  startRuns: number;
  /** CLI calls per latency series, and catdb runs. */
  n: number;
  loopKeys: number;
  /** `ctdb catdb` runs of the populated db. */
  catdbRuns: number;
  populate: { records: number; recoveries: number };
  vacuum: { variants: VacuumVariant[]; intervals: number[] };
  idle: { settleSec: number; windowSec: number; windows: number };
  /** Also start 16 nodes and measure them idle. */
  sixteen: boolean;
}

const readyTimeoutMs = 180_000;

interface Ctx { o: CommonOptions; po: PeerOptions; figures: Figure[]; notes: string[] }

/** One step; a failure becomes a note and the run goes on. */
async function step(c: Ctx, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    c.notes.push(`WARNING: step "${name}" failed: ${msg.split('\n').slice(0, 3).join(' / ')}`);
    c.o.log(`  CTDB step ${name} failed: ${msg}`);
  }
}

async function startRuns(c: Ctx, nodes: number, runs: number): Promise<void> {
  const ready: number[] = [];
  const upsh: number[] = [];
  const firstRecovery: number[] = [];
  for (let r = 0; r < runs; r++) {
    await runScript(c.po.peerDir, 'down.sh', ['--wipe']);
    const u = await timeStart(`${c.po.peerDir}/up.sh`, ['--fresh', String(nodes)], ctdbProbe(peerBase()), nodes, readyTimeoutMs);
    if (u.exitCode !== 0) throw new Error(`up.sh --fresh ${nodes} failed (exit ${u.exitCode}): ${u.out.slice(-1500)}`);
    if (!Number.isFinite(u.readySec)) throw new Error(`up.sh --fresh ${nodes} returned, but the readiness criterion did not hold within ${readyTimeoutMs / 1000} s`);
    ready.push(u.readySec);
    upsh.push(parseUpOkAfter(u.out));
    firstRecovery.push(parseUptimeDuration(timeSpawn('/usr/bin/ctdb', ['uptime'], { env: ctdbEnv(0) }).stdout));
    c.o.log(`  CTDB ${nodes} nodes, run ${r + 1}: ready ${u.readySec.toFixed(3)} s (up.sh says OK after ${upsh[r]} s, exited ${u.exitSec.toFixed(3)} s); first recovery ${firstRecovery[r]} s`);
  }
  const rs = spreadOf(ready);
  c.figures.push(
    { id: `start.${nodes}.ready`, label: `CTDB: start of ${nodes} nodes until every node reports every node OK and recovery mode NORMAL`, value: rs.median, unit: 's', spread: rs },
    { id: `start.${nodes}.upsh`, label: 'CTDB: up.sh\'s own "OK after" (from before its config is written)', value: spreadOf(upsh).median, unit: 's', spread: spreadOf(upsh) },
  );
  if (nodes === 3) {
    const fr = spreadOf(firstRecovery);
    c.figures.push({ id: 'start.3.first-recovery', label: 'CTDB: first recovery, `ctdb uptime` "Duration of last recovery/failover"', value: fr.median, unit: 's', spread: fr });
  }
}

async function idle(c: Ctx, nodes: number): Promise<void> {
  await sleep(c.po.idle.settleSec * 1000);
  const roots = Array.from({ length: nodes }, (_, p) => ctdbdPid(p)).filter((p): p is number => p !== undefined);
  if (roots.length !== nodes) throw new Error(`found ${roots.length} ctdbd pids of ${nodes}`);
  const w = await idleWindows(roots, c.po.idle);
  c.figures.push(...idleFigures(nodes, w, false).map((f) => ({ ...f, label: `CTDB: ${f.label}`, headline: false })));
  c.notes.push(`idle ${nodes} nodes: ${w.map((x) => `${x.cpuSec.toFixed(2)} CPU-s in ${x.wallSec.toFixed(1)} s over ${x.processes} processes`).join('; ')}`);
}

async function cli(c: Ctx): Promise<void> {
  const [local, remote] = ctdbKeysWithLmaster(c.po.peerDir, 'latkey', 0, 3, 2) as [string, string];
  const r = measureCliCalls(ctdbCli(), { local, remote }, c.po, c.o.log);
  c.figures.push(...cliFigures(r, { side: 'ctdb' }).map((f) => ({ ...f, label: `CTDB: ${f.label}`, headline: false })));
}

async function populate(c: Ctx): Promise<void> {
  const { records, recoveries } = c.po.populate;
  await mustScript(c.po.peerDir, 'up.sh', ['--fresh', '3']);
  const out = await mustScript(c.po.peerDir, 'bench.py', ['populate', '--count', String(records), '--recoveries', String(recoveries)]);
  const p = parsePopulate(out);
  if (p.recoveries.length !== recoveries) throw new Error(`bench.py populate printed ${p.recoveries.length} recoveries, expected ${recoveries}:\n${out.slice(-1500)}`);
  const d = spreadOf(p.recoveries.map((x) => x.durationSec));
  const w = spreadOf(p.recoveries.map((x) => x.cliSec));
  c.figures.push(
    { id: `recovery.duration:${records}`, label: `CTDB: recovery of ${records.toLocaleString('en-US')} records held by 3 nodes (uptime "Duration of last recovery")`, value: d.median, unit: 's', spread: d },
    { id: `recovery.cli:${records}`, label: 'CTDB: `ctdb recover` CLI wall time', value: w.median, unit: 's', spread: w },
  );
  // catdb as ctdb-ng's traverse row: the CLI from node 1, stdout to /dev/null.
  const db = `big${records}.tdb`;
  const cat = Array.from({ length: c.po.catdbRuns }, () => {
    const r = timeSpawn('/usr/bin/ctdb', ['catdb', db], { env: ctdbEnv(1), stdout: 'null' });
    if (r.status !== 0) throw new Error(`ctdb catdb ${db} failed: ${r.stderr.trim()}`);
    return r.ms / 1000;
  });
  const cs = spreadOf(cat);
  c.figures.push({ id: `catdb.cli:${records}`, label: `CTDB: \`ctdb catdb\` of ${records.toLocaleString('en-US')} records from node 1, >/dev/null`, value: cs.median, unit: 's', spread: cs });
  c.notes.push(`populate ${records}: restoredb ${p.restoredbSec} s; bench.py's own catdb (captured by python) ${p.catdbSec.join(', ')} s; records per node after the recoveries ${p.recordsAfter.join(' / ')}`);
}

/**
 * bench.py vacuum, each run on a fresh cluster started with the interval as a start-up tunable
 * (CTDB_PEER_TUNABLES), as ctdb-ng's runs start with it: a `setvar` on a running cluster only takes
 * effect after the vacuum event already scheduled at the old interval (10 s) has run.
 */
async function vacuum(c: Ctx): Promise<void> {
  for (const interval of c.po.vacuum.intervals) {
    for (const v of c.po.vacuum.variants) {
      const tag = `${v.deletes.toLocaleString('en-US')} deletes in ${v.records.toLocaleString('en-US')} records, VacuumInterval ${interval}`;
      const outs = [];
      for (let r = 0; r < (v.runs ?? 1); r++) {
        await mustScript(c.po.peerDir, 'up.sh', ['--fresh', '3'], { ...process.env, CTDB_PEER_TUNABLES: `VacuumInterval=${interval}` });
        const out = await mustScript(c.po.peerDir, 'bench.py', ['vacuum', '--count', String(v.records), '--delete', String(v.deletes), '--interval', String(interval)]);
        const p = parseVacuum(out);
        outs.push(p);
        c.o.log(`  CTDB vacuum, ${tag}: deletes ${p.deleteSec} s, purged ${p.afterLastSec} s after the last (${p.afterFirstSec} s after the first)${p.gaveUp ? ' GAVE UP' : ''}`);
      }
      const id = `vacuum:${v.records}/${v.deletes}@${interval}`;
      const last = spreadOf(outs.map((x) => x.afterLastSec));
      const first = spreadOf(outs.map((x) => x.afterFirstSec));
      c.figures.push(
        { id: `${id}.last`, label: `CTDB: ${tag}: purged from every node, after the last deletekey (bench.py, cattdb every 0.5 s)`, value: last.median, unit: 's', spread: last },
        { id: `${id}.first`, label: `CTDB: ${tag}: the same, after the first deletekey`, value: first.median, unit: 's', spread: first },
      );
      if (outs.some((x) => x.gaveUp)) c.notes.push(`WARNING: bench.py vacuum gave up waiting (${tag})`);
    }
  }
}

export async function peerBench(o: CommonOptions, po: PeerOptions): Promise<BenchResult> {
  const command = commandLine(['peer', '--peer-dir', po.peerDir, '--runs', String(po.startRuns), '--n', String(po.n), '--loop-keys', String(po.loopKeys),
    '--records', String(po.populate.records), '--recoveries', String(po.populate.recoveries),
    ...po.vacuum.variants.flatMap((v) => ['--variant', `${v.records}/${v.deletes}x${v.runs ?? 1}`]), ...po.vacuum.intervals.flatMap((i) => ['--interval', String(i)]),
    ...(po.sixteen ? [] : ['--no-sixteen'])]);
  const t0 = process.hrtime.bigint();
  const why = peerUnavailable(po.peerDir);
  if (why !== undefined) {
    o.log(`# peer: skipped: ${why}`);
    return { bench: 'ctdb', command, figures: [], notes: [], skipped: why };
  }
  const c: Ctx = { o, po, figures: [], notes: [] };
  o.log(`# peer: CTDB 4.17 in ${peerBase()} (scripts ${po.peerDir})`);
  try {
    await startRuns(c, 3, po.startRuns); // the last cluster stays up for idle and CLI
    await step(c, 'idle, 3 nodes', () => idle(c, 3));
    await step(c, 'CLI calls', () => cli(c));
    await step(c, 'populate and recoveries', () => populate(c));
    if (po.vacuum.variants.length > 0) await step(c, 'vacuum', () => vacuum(c));
    if (po.sixteen) {
      await step(c, '16 nodes', async () => {
        await startRuns(c, 16, 1);
        await idle(c, 16);
      });
    }
  } finally {
    const d = await runScript(po.peerDir, 'down.sh', []);
    o.log(`  peer down.sh: exit ${d.code}`);
  }
  c.notes.push('CTDB\'s CLI calls are /usr/bin/ctdb with CTDB_TEST_MODE=yes CTDB_BASE=<node dir> (what ctl.sh runs, without its ~12 ms of bash), as bench.py does');
  return { bench: 'ctdb', command, figures: c.figures, notes: c.notes, elapsedSec: secondsSince(t0) };
}
