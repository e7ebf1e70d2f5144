// The README's tunables table is generated from TUNABLES (STYLE §2: one table, a test compares).
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { tunablesMarkdownTable } from '@ctdbng/common';

const readmePath = new URL('../../../README.md', import.meta.url);
const begin = '<!-- tunables:begin -->';
const end = '<!-- tunables:end -->';

test('the tunables table in README.md is the one generated from TUNABLES', () => {
  const readme = readFileSync(readmePath, 'utf8');
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  expect(from, `README.md lacks the ${begin} marker`).toBeGreaterThanOrEqual(0);
  expect(to, `README.md lacks the ${end} marker after ${begin}`).toBeGreaterThan(from);
  const section = readme.slice(from + begin.length, to).trim();
  expect(section, 'README.md tunables table is stale: run `npm run build && node packages/common/scripts/readme-tunables.mjs`')
    .toBe(tunablesMarkdownTable());
});
