// `cli`: ctdb-ng's side of the CLI rows (cli-calls.ts) on a fresh 3-node cluster: `ctdbng pnn`,
// writekey/readkey local and remote, a writekey loop of new keys, catdb of the loop's db. Every
// call is the `ctdbng` launcher of @ctdbng/cli, spawned as a user's shell would.
import { binCommand, ctdbngBin } from './cli-paths.js';
import { cliFigures, measureCliCalls, type CliRunner } from './cli-calls.js';
import { commandLine, keysWithLmaster, portBases, secondsSince, withCluster, type CommonOptions } from './common.js';
import { floorIds } from './floors.js';
import type { BenchResult, Figure } from './report.js';
import { timeSpawn } from './spawn-timing.js';

export interface CliBenchOptions { n: number; loopKeys: number; portBase?: number }

export async function cliBench(o: CommonOptions, co: CliBenchOptions): Promise<BenchResult> {
  const portBase = co.portBase ?? portBases.cli;
  const args = ['cli', '--n', String(co.n), '--loop-keys', String(co.loopKeys), '--port-base', String(portBase)];
  const t0 = process.hrtime.bigint();
  o.log(`# cli: ctdbng calls, one process each (n=${co.n}), a writekey loop of ${co.loopKeys} new keys, catdb of ${co.loopKeys + 1} records`);
  let figures: Figure[] = [];
  const notes: string[] = [];
  await withCluster(o, 'cli', portBase, async (cluster) => {
    const bin = binCommand(ctdbngBin());
    const cli: CliRunner = {
      name: 'ctdbng',
      run: (pnn, a, stdout) => timeSpawn(bin.cmd, [...bin.args, ...a], { env: { ...process.env, CTDBNG_BASE: cluster.nodeBase(pnn) }, stdout: stdout ?? 'pipe' }),
    };
    const probe = await cluster.clientFor(0, { name: 'bench-cli-probe' });
    let vnnmap: number[];
    try {
      vnnmap = (await probe.getVnnMap()).pnns;
    } finally {
      await probe.close();
    }
    const [local, remote] = keysWithLmaster('latkey', 0, vnnmap, 2) as [string, string];
    const r = measureCliCalls(cli, { local, remote }, co, o.log);
    figures = cliFigures(r, { side: 'ctdbng', nodeStartFloor: floorIds.nodeStart });
    notes.push(`launcher: ${[bin.cmd, ...bin.args].join(' ')}; CTDBNG_BASE=<node dir>; one process per call, spawn to exit`);
  });
  return { bench: 'cli', command: commandLine(args), figures, notes, elapsedSec: secondsSince(t0) };
}
