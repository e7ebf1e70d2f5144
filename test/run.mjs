// `npm test`: the three vitest projects of test/vitest.config.ts in two vitest processes at once.
//
//   unit, then integration   in the foreground, at normal priority, its report on the terminal;
//   sim                      beside them at the lowest CPU priority (nice 19), its report
//                            printed when the foreground run has ended.
//
// Why: the integration files run one at a time and spend most of their time waiting on the
// cluster (elections, leases, vacuum passes): they keep about one of this project's two cores
// busy on average. The simulation is pure CPU (no daemon, no port, no clock) and
// fills the idle core instead of adding its ~2 minutes after them. At nice 19 the scheduler
// gives it a core only when the daemons and the foreground tests leave one idle (CFS weight 15
// against 1024), so the integration scenarios see the machine as before. Linux groups a
// session's processes for CPU shares (autogroup, on by default in Debian): the test clusters'
// supervisors run in sessions of their own, so a process's nice alone would weigh the simulation
// only against the foreground tests. The simulation gets a session of its own too, and that
// session's autogroup gets nice 19.
//
// With arguments (`npm test -- --project unit`, `npm test -- test/recovery`), this is one plain
// `vitest run` with them, as if vitest had been called directly.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const config = ['--config', 'test/vitest.config.ts'];
const args = process.argv.slice(2);
const simNice = 19;

/** Resolves with the exit code (1 when killed by a signal). */
function exited(child) {
  return new Promise((res) => {
    child.on('error', (err) => {
      process.stderr.write(`test/run.mjs: ${err.message}\n`);
      res(1);
    });
    child.on('close', (code) => res(code ?? 1));
  });
}

function vitestRun(extra, stdio, o = {}) {
  return spawn(process.execPath, [vitest, 'run', ...config, ...extra], { cwd: repoRoot, stdio, env: process.env, ...o });
}

/** Lowers a process's CPU priority, and its autogroup's where the kernel has them. */
function lowerPriority(pid) {
  try {
    setPriority(pid, simNice);
    const autogroup = `/proc/${pid}/autogroup`;
    if (existsSync(autogroup)) writeFileSync(autogroup, String(simNice));
  } catch (err) {
    process.stderr.write(`test/run.mjs: could not lower the simulation's priority (${err.message}); it runs at normal priority\n`);
  }
}

if (args.length > 0) {
  process.exit(await exited(vitestRun(args, 'inherit')));
}

const color = process.stdout.isTTY ? { FORCE_COLOR: '1' } : {};
// detached: a session (and autogroup) of its own. Lowered before vitest has read its config, so
// every worker it forks (and the determinism test's child processes) inherits the priority.
const sim = vitestRun(['--project', 'sim'], ['ignore', 'pipe', 'pipe'], { env: { ...process.env, ...color }, detached: true });
lowerPriority(sim.pid);
// Outside our process group, Ctrl-C does not reach it: pass signals on, and never leave it behind.
let simRunning = true;
sim.on('close', () => { simRunning = false; });
const stopSim = () => {
  if (!simRunning) return;
  try {
    process.kill(-sim.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
let main;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopSim();
    main?.kill(sig);
  });
}
process.on('exit', stopSim);
const simOut = [];
sim.stdout.on('data', (d) => simOut.push(d));
sim.stderr.on('data', (d) => simOut.push(d));
const simDone = exited(sim);

main = vitestRun(['--project', 'unit', '--project', 'integration'], 'inherit');
const mainCode = await exited(main);
process.stdout.write(`\n── the sim project (ran beside the above at nice ${simNice}) ──\n`);
const simCode = await simDone;
process.stdout.write(Buffer.concat(simOut));
process.exit(mainCode !== 0 ? mainCode : simCode);
