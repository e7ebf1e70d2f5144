#!/usr/bin/env node
// Summarises the CPU profiles of `node --cpu-prof --cpu-prof-dir=DIR …` runs: self time per run
// (the average over the profiles in DIR) by where the code lives — a Node internal, an npm
// package, a file of ours, or, in a bundle built with BUNDLE_MINIFY=0, the module of the bundle
// (from esbuild's `// path` comments) — then by function. packages/cli/README.md, "Start-up time".
//   node packages/cli/scripts/cpuprofile-summary.mjs DIR [ROWS]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [dir, rowsArg] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: cpuprofile-summary.mjs DIR [ROWS]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 15);
const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

/** For a bundle file: the module of each line, from esbuild's `// packages/…` comments (unminified bundles only). */
const bundleModules = new Map();
function moduleOfBundleLine(url, line) {
  if (!bundleModules.has(url)) {
    const at = [];
    let current;
    try {
      readFileSync(fileURLToPath(url), 'utf8').split('\n').forEach((text, i) => {
        const m = /^\/\/ ((?:packages|node_modules)\/\S+)$/.exec(text);
        if (m) current = m[1];
        at[i] = current;
      });
    } catch {
      // Not readable (moved or deleted since): the file name stands for the module.
    }
    bundleModules.set(url, at);
  }
  return bundleModules.get(url)[line];
}

function placeOf(frame) {
  const { url, functionName, lineNumber } = frame;
  if (url === '') return ['(garbage collector)', '(program)', '(idle)', '(root)'].includes(functionName) ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, 'internal/').split('/').slice(0, 3).join('/')}`;
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm && !url.includes('/packages/')) return `npm ${npm[1]}`;
  const mine = /\/packages\/(.+)$/.exec(url)?.[1] ?? url;
  if (!mine.includes('/dist/bundle/')) return mine;
  const inner = moduleOfBundleLine(url, lineNumber);
  return inner === undefined ? mine : `${mine} › ${inner.replace(/^packages\//, '')}`;
}

const byPlace = new Map();
const byFunction = new Map();
let totalUs = 0;
for (const p of profiles) {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const frame = nodes.get(id).callFrame;
    totalUs += us;
    const place = placeOf(frame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const fn = `${frame.functionName || '(top level)'}  ${place}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  });
}

const ms = (us) => (us / 1000 / profiles.length).toFixed(2).padStart(7);
console.log(`${profiles.length} profiles, ${ms(totalUs)} ms sampled per run`);
console.log('\nself time per run, by place');
for (const [k, v] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${ms(v)} ms  ${k}`);
console.log('\nself time per run, by function');
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${ms(v)} ms  ${k}`);
