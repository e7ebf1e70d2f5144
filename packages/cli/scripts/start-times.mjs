#!/usr/bin/env node
// Times command lines from spawn to exit, in turn (one of each per round, so that a change of load
// on a shared machine hits all of them alike), and prints min, median and max of each and the
// ratio of its median to the first's. packages/cli/README.md, "Start-up time"; the same loop as
// `ctdbng-bench cli-start`, for any command lines.
//   node packages/cli/scripts/start-times.mjs ROUNDS "node -e ''" "node packages/cli/bin/ctdbng.js pnn" …
import { spawnSync } from 'node:child_process';

const [roundsArg, ...lines] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1 || lines.length === 0) {
  console.error('usage: start-times.mjs ROUNDS COMMAND...');
  process.exit(2);
}
const warmupRounds = 2;
const argvs = lines.map((l) => l.split(' ').map((w) => (w === "''" ? '' : w)));
const samples = lines.map(() => []);
for (let r = 0; r < warmupRounds + rounds; r++) {
  argvs.forEach(([file, ...args], i) => {
    const t0 = process.hrtime.bigint();
    const run = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (run.status !== 0) throw new Error(`${lines[i]} exited ${run.status ?? run.signal}: ${run.stderr.trim()}`);
    if (r >= warmupRounds) samples[i].push(ms);
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const base = median(samples[0]);
lines.forEach((l, i) => {
  const s = samples[i];
  const f = (x) => x.toFixed(1).padStart(6);
  console.log(`${f(Math.min(...s))} ${f(median(s))} ${f(Math.max(...s))} ms  ${(median(s) / base).toFixed(2)}×  ${l}`);
});
console.log(`(min, median, max of ${rounds} runs each, in turn, after ${warmupRounds} warm-up rounds; × = median / first median)`);
