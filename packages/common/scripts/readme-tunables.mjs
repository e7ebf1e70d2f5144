#!/usr/bin/env node
// Rewrites the tunables table of README.md (between <!-- tunables:begin --> and
// <!-- tunables:end -->) from TUNABLES in packages/common/src/tunables.ts. Needs a build first
// (it imports packages/common/dist). packages/common/test/readme-tunables.test.ts compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { tunablesMarkdownTable } from '../dist/tunables.js';

const readmePath = new URL('../../../README.md', import.meta.url);
const begin = '<!-- tunables:begin -->';
const end = '<!-- tunables:end -->';
const readme = readFileSync(readmePath, 'utf8');
const from = readme.indexOf(begin);
const to = readme.indexOf(end);
if (from < 0 || to < from) {
  console.error(`README.md needs ${begin} and ${end} markers, in that order`);
  process.exit(1);
}
const next = `${readme.slice(0, from + begin.length)}\n${tunablesMarkdownTable()}\n${readme.slice(to)}`;
if (next !== readme) writeFileSync(readmePath, next);
console.log(next === readme ? 'README.md tunables table is up to date' : 'README.md tunables table rewritten');
