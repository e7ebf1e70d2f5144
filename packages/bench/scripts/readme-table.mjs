#!/usr/bin/env node
// Regenerates the benchmark section of the README (between <!-- bench:begin --> and
// <!-- bench:end -->) from ONE run's JSON document, with that run's date and command:
//
//   npx ctdbng-bench all --peer ctdb --json > results.json
//   node packages/bench/scripts/readme-table.mjs results.json            # writes README.md
//   node packages/bench/scripts/readme-table.mjs results.json --print    # prints the section only
//   node packages/bench/scripts/readme-table.mjs results.json --readme OTHER.md
//
// Needs the built package (npm run build). Exit 1 on a bad document or missing markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeSection, replaceBetweenMarkers } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  process.stderr.write(`readme-table: ${msg}\nusage: node packages/bench/scripts/readme-table.mjs RESULTS.json [--readme README.md] [--print]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let jsonPath;
let readme = resolve(here, '../../../README.md');
let print = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--print') print = true;
  else if (a === '--readme') readme = args[++i] ?? usage('--readme needs a path');
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (jsonPath === undefined) jsonPath = a;
  else usage('one results file only');
}
if (jsonPath === undefined) usage('no results file');

try {
  const doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
  if (doc?.tool !== 'ctdbng-bench' || !Array.isArray(doc.rows)) throw new Error(`${jsonPath} is not a ctdbng-bench --json document (no tool/rows)`);
  const section = readmeSection(doc);
  if (print) {
    process.stdout.write(section);
  } else {
    writeFileSync(readme, replaceBetweenMarkers(readFileSync(readme, 'utf8'), section));
    process.stderr.write(`readme-table: ${readme}: ${doc.rows.filter((r) => r.headline || r.skipped !== null).length} rows from the run of ${doc.date} (${doc.command})\n`);
  }
} catch (err) {
  process.stderr.write(`readme-table: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
