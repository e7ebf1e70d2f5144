#!/usr/bin/env node
// Rounds of `floors` and the hot-path benchmarks, in one or more checkouts, alternating, so a
// before and an after (or two branches) are measured in the same run on a busy machine:
//
//   node packages/bench/scripts/same-run.mjs --rounds 3 --port-base 28400 --out /tmp/same-run \
//     [--benches floors,local-shared,local-zmq,migrate,concurrent] [--report-only] CHECKOUT [CHECKOUT…]
//
// Each round runs, in each checkout in turn, `npx ctdbng-bench <bench> --json --port-base P`
// (P + 10 per checkout) for every bench, `floors` first; every document is kept in --out. Then it
// prints, per checkout, the median (min–max) over the rounds of each figure, of the floor of the
// same round and checkout, and of their ratio. A bench that fails is reported and left out.
// --report-only prints that from the documents already in --out.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const usage = 'usage: same-run.mjs [--rounds N] [--port-base P] [--out DIR] [--benches a,b,…] [--report-only] CHECKOUT…';
const o = { rounds: 3, portBase: 28400, out: '/tmp/ctdbng-same-run', benches: 'floors,local-shared,local-zmq,migrate,concurrent', reportOnly: false, trees: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (argv[i + 1] === undefined) throw new Error(usage); return argv[++i]; };
  if (a === '--rounds') o.rounds = Number(next());
  else if (a === '--port-base') o.portBase = Number(next());
  else if (a === '--out') o.out = next();
  else if (a === '--benches') o.benches = next();
  else if (a === '--report-only') o.reportOnly = true;
  else if (a.startsWith('-')) throw new Error(usage);
  else o.trees.push(resolve(a));
}
if (o.trees.length === 0 || !(o.rounds >= 1)) throw new Error(usage);

/** Extra arguments: the floors' node-start and migration counts are cut (only their p50s are used here). */
const extra = { floors: ['--migration-ops', '3000', '--node-runs', '3'] };
const benches = o.benches.split(',');
if (benches[0] !== 'floors') benches.unshift('floors');
mkdirSync(o.out, { recursive: true });

for (let r = 0; r < (o.reportOnly ? 0 : o.rounds); r++) {
  for (const [t, tree] of o.trees.entries()) {
    for (const b of benches) {
      const args = ['ctdbng-bench', b, ...(extra[b] ?? []), '--json', '--port-base', String(o.portBase + 10 * t), '--base-dir', `${o.out}/clusters-${t}`];
      const t0 = Date.now();
      try {
        const doc = execFileSync('npx', args, { cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
        writeFileSync(`${o.out}/r${r}-t${t}-${b}.json`, doc);
        process.stderr.write(`round ${r} ${tree} ${b}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      } catch (err) {
        process.stderr.write(`round ${r} ${tree} ${b}: FAILED (${String(err).split('\n')[0]})\n`);
      }
    }
  }
}

/** [label, bench, figure id, floor id or null] */
const figures = [
  ['shared access p50, µs', 'local-shared', 'local-shared.p50', 'floor.sqlite.2tx.p50'],
  ['db.update p50, µs', 'local-shared', 'local-shared.update.p50', 'floor.sqlite.1tx.p50'],
  ['shared access, 2 processes, ops/s', 'local-shared', 'local-shared.rate.procs', null],
  ['ZeroMQ path p50, µs', 'local-zmq', 'local-zmq.p50', 'floor.zmq.ipc.2rt.p50'],
  ['migration p50, µs', 'migrate', 'migrate.p50', 'floor.migration.p50'],
  ['8 connections, ops/s', 'concurrent', 'concurrent.rate', null],
  ['1 connection, ops/s', 'concurrent', 'concurrent.rate.one', null],
  ['8 connections / 1', 'concurrent', 'concurrent.speedup', null],
];
const value = (r, t, b, id) => {
  const f = `${o.out}/r${r}-t${t}-${b}.json`;
  if (!existsSync(f)) return Number.NaN;
  const row = JSON.parse(readFileSync(f, 'utf8')).rows.find((x) => x.id === id);
  return typeof row?.value === 'number' ? row.value : Number.NaN;
};
const spread = (xs) => {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const med = v.length % 2 === 1 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  return `${f(med)} (${f(v[0])}–${f(v[v.length - 1])})`;
};
for (const [t, tree] of o.trees.entries()) {
  console.log(`\n${tree}: median (min–max) of ${o.rounds} rounds`);
  console.log('| figure | value | floor, same round | ratio |\n|---|---|---|---|');
  for (const [label, b, id, floorId] of figures) {
    if (!benches.includes(b)) continue;
    const vs = []; const fs = []; const rs = [];
    for (let r = 0; r < o.rounds; r++) {
      const v = value(r, t, b, id);
      vs.push(v);
      if (floorId !== null) {
        const fl = value(r, t, 'floors', floorId);
        fs.push(fl);
        rs.push(v / fl);
      }
    }
    console.log(`| ${label} | ${spread(vs)} | ${floorId === null ? '—' : spread(fs)} | ${floorId === null ? "—" : spread(rs) === "n/a" ? "n/a" : `${spread(rs)}×`} |`);
  }
}
