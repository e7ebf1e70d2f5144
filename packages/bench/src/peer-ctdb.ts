// Driving the real Samba CTDB 4.17 cluster of ../shared/peer-ctdb (its README): up.sh, down.sh,
// the `ctdb` CLI against one node (what ctl.sh runs, without ctl.sh's ~12 ms of bash for timed
// calls, as bench.py does), ctdbkeys.py for keys by lmaster, and bench.py for populate (restoredb,
// catdb, recoveries) and vacuum. The parsers of their output are pure, and unit-tested.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliRunner } from './cli-calls.js';
import { timeSpawn } from './spawn-timing.js';

/**
 * `../shared/peer-ctdb` beside the repository (where the project's machines keep it), else the
 * absolute path of this machine.
 */
export const peerDirDefault = ((): string => {
  const beside = fileURLToPath(new URL('../../../../shared/peer-ctdb', import.meta.url));
  return existsSync(join(beside, 'up.sh')) ? beside : '/work/shared/peer-ctdb';
})();
export const ctdbBin = '/usr/bin/ctdb';

/** Why the peer cannot run here, or undefined. */
export function peerUnavailable(peerDir: string): string | undefined {
  if (!existsSync('/usr/sbin/ctdbd') || !existsSync(ctdbBin)) return 'ctdb is not installed (/usr/sbin/ctdbd, /usr/bin/ctdb missing; `apt-get install -y ctdb`)';
  if (process.getuid?.() !== 0) return 'not root (ctdbd needs root and port 4379 on 127.0.0.1-N)';
  if (!existsSync(join(peerDir, 'up.sh')) || !existsSync(join(peerDir, 'bench.py'))) return `no up.sh / bench.py in ${peerDir}`;
  return undefined;
}

export function peerBase(): string {
  return process.env['CTDB_PEER_BASE'] ?? '/tmp/ctdb-peer';
}

export function ctdbEnv(pnn: number): NodeJS.ProcessEnv {
  return { ...process.env, CTDB_TEST_MODE: 'yes', CTDB_BASE: `${peerBase()}/node.${pnn}` };
}

/** The `ctdb` CLI as a CliRunner (the same env ctl.sh sets). */
export function ctdbCli(): CliRunner {
  return { name: 'ctdb', run: (pnn, args, stdout) => timeSpawn(ctdbBin, args, { env: ctdbEnv(pnn), stdout: stdout ?? 'pipe' }) };
}

export interface ScriptRun { code: number | null; out: string; sec: number }

/** Runs a peer script (up.sh, down.sh, bench.py, …) to its end; stdout and stderr together. */
export function runScript(peerDir: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 1_800_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const ch = spawn(join(peerDir, script), args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    ch.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    ch.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    ch.on('error', reject);
    ch.on('close', (code) => resolve({ code, out, sec: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

export async function mustScript(peerDir: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await runScript(peerDir, script, args, env);
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  return r.out;
}

/** Keys `prefix0…` whose lmaster is `lmaster` in a cluster of `nodes` (ctdbkeys.py: CTDB's Jenkins hash). */
export function ctdbKeysWithLmaster(peerDir: string, prefix: string, lmaster: number, nodes: number, count: number): string[] {
  const candidates = Array.from({ length: count * nodes * 8 }, (_, i) => `${prefix}${i}`);
  const r = spawnSync('python3', [join(peerDir, 'ctdbkeys.py'), 'lmaster', '--nodes', String(nodes), ...candidates], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctdbkeys.py lmaster failed: ${r.stderr}`);
  const keys = parseLmasterLines(r.stdout).filter((k) => k.lmaster === lmaster).map((k) => k.key).slice(0, count);
  if (keys.length < count) throw new Error(`ctdbkeys.py found ${keys.length} keys with lmaster ${lmaster}, wanted ${count}`);
  return keys;
}

/** `KEY PNN` lines of `ctdbkeys.py lmaster`. */
export function parseLmasterLines(out: string): { key: string; lmaster: number }[] {
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && /^\d+$/.test(f[1]!)).map((f) => ({ key: f[0]!, lmaster: Number(f[1]) }));
}

/** up.sh's own figure: "Cluster of N nodes OK after S s". */
export function parseUpOkAfter(out: string): number {
  const m = /OK after ([0-9.]+) s/.exec(out);
  return m === null ? Number.NaN : Number(m[1]);
}

/** `ctdb uptime`: "Duration of last recovery/failover: 2.248552 seconds". */
export function parseUptimeDuration(out: string): number {
  const m = /Duration of last recovery\/failover: ([0-9.]+)/.exec(out);
  return m === null ? Number.NaN : Number(m[1]);
}

export interface PopulateOutput {
  restoredbSec: number;
  catdbSec: number[];
  /** Per recovery: uptime's duration and how long `ctdb recover` took to return. */
  recoveries: { durationSec: number; cliSec: number }[];
  /** Local records per node after the recoveries (catdb counts). */
  recordsAfter: number[];
}

/** The output of `bench.py populate --count C --recoveries R`. */
export function parsePopulate(out: string): PopulateOutput {
  const restoredb = /restoredb \(wipe \+ push to all \d+ nodes\): ([0-9.]+) s/.exec(out);
  const catdbSec = [...out.matchAll(/catdb from node \d+: ([0-9.]+) s, (\d+) records/g)].map((m) => Number(m[1]));
  const recoveries = [...out.matchAll(/'ctdb recover' returned after ([0-9.]+) s; uptime 'Duration of last recovery': ([0-9.]+) s/g)]
    .map((m) => ({ cliSec: Number(m[1]), durationSec: Number(m[2]) }));
  const recordsAfter = [...out.matchAll(/after recovery node \d+ local records: (-?\d+)/g)].map((m) => Number(m[1]));
  return { restoredbSec: restoredb === null ? Number.NaN : Number(restoredb[1]), catdbSec, recoveries, recordsAfter };
}

export interface VacuumOutput {
  deleteSec: number;
  /** Purged from every node, after the last / the first deletekey; NaN when bench.py gave up. */
  afterLastSec: number;
  afterFirstSec: number;
  gaveUp: boolean;
}

/** The output of `bench.py vacuum --count C --delete D --interval S`. */
export function parseVacuum(out: string): VacuumOutput {
  const del = /deletekey loop on node \d+: \d+ keys in ([0-9.]+) s/.exec(out);
  const purged = /purged on all nodes: ([0-9.]+) s after the last deletekey, ([0-9.]+) s after the first/.exec(out);
  const gaveUp = /gave up after/.test(out);
  const ok = purged !== null && !gaveUp;
  return {
    deleteSec: del === null ? Number.NaN : Number(del[1]),
    afterLastSec: ok ? Number(purged[1]) : Number.NaN,
    afterFirstSec: ok ? Number(purged[2]) : Number.NaN,
    gaveUp,
  };
}

/** ctdbd's pid of node `pnn` (run/ctdbd.pid), or undefined. */
export function ctdbdPid(pnn: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${peerBase()}/node.${pnn}/run/ctdbd.pid`, 'utf8');
  } catch {
    return undefined; // not running
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
