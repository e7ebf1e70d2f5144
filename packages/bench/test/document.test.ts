// The README's benchmark section is regenerated from one run's JSON document, with its date and
// command, between the markers and nowhere else.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { benchDocument, readmeSection, replaceBetweenMarkers, type BenchResult } from '@ctdbng/bench';

const results: BenchResult[] = [
  { bench: 'floors', command: 'f', notes: [], figures: [{ id: 'floor.node-start', label: "node -e ''", short: "bare `node -e ''`", value: 80, unit: 'ms' }] },
  { bench: 'cli', command: 'c', notes: [], figures: [{ id: 'cli.pnn', label: 'CLI pnn', value: 100, unit: 'ms', headline: true, floorRef: 'floor.node-start', target: { op: '<=', value: 1.5, on: 'floor' } }] },
];
const doc = benchDocument(results, { command: 'npx ctdbng-bench all --peer ctdb --json', quick: false, elapsedSec: 1_500, date: new Date('2026-12-24T10:00:00Z') });

describe('benchDocument', () => {
  it('holds the run\'s date, command, machine, rows and results', () => {
    expect(doc.tool).toBe('ctdbng-bench');
    expect(doc.date).toBe('2026-12-24T10:00:00.000Z');
    expect(doc.command).toBe('npx ctdbng-bench all --peer ctdb --json');
    expect(doc.host.cpus).toBeGreaterThan(0);
    expect(doc.rows.map((r) => r.id)).toEqual(['floor.node-start', 'cli.pnn']);
    expect(doc.results).toBe(results);
  });
});

describe('readmeSection', () => {
  it('names the date and the command, then the table', () => {
    const s = readmeSection(doc);
    expect(s).toContain('Measured 2026-12-24 with `npx ctdbng-bench all --peer ctdb --json`, 25 minutes');
    expect(s).toContain('| cli | CLI pnn | **100.0 ms** | 80.0 ms (bare `node -e \'\'`) | 1.25× |');
    expect(s).not.toContain('--quick');
  });
  it('a quick run says it is no figure', () => {
    expect(readmeSection({ ...doc, quick: true })).toContain('A `--quick` run');
  });
});

describe('replaceBetweenMarkers', () => {
  const text = 'intro\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\nafter\n';
  it('replaces only what is between the markers', () => {
    expect(replaceBetweenMarkers(text, 'new\n')).toBe('intro\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nafter\n');
  });
  it('refuses a text without the markers, with them reversed, or twice', () => {
    expect(() => replaceBetweenMarkers('no markers', 'x')).toThrow(/not found/);
    expect(() => replaceBetweenMarkers('<!-- bench:end -->\n<!-- bench:begin -->', 'x')).toThrow(/before/);
    expect(() => replaceBetweenMarkers(`${text}${text}`, 'x')).toThrow(/more than once/);
  });
});

describe('scripts/readme-table.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = fileURLToPath(new URL('../scripts/readme-table.mjs', import.meta.url));

  it('rewrites the section of the given README from a results file', () => {
    const json = join(dir, 'results.json');
    const readme = join(dir, 'README.md');
    writeFileSync(json, JSON.stringify(doc));
    writeFileSync(readme, '# x\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nkept\n');
    const r = spawnSync(process.execPath, [script, json, '--readme', readme], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = readFileSync(readme, 'utf8');
    expect(out).toContain('Measured 2026-12-24 with `npx ctdbng-bench all --peer ctdb --json`');
    expect(out).not.toContain('\nold\n');
    expect(out.endsWith('<!-- bench:end -->\nkept\n')).toBe(true);
  });

  it('refuses a file that is not a ctdbng-bench document', () => {
    const json = join(dir, 'other.json');
    writeFileSync(json, '{"rows": 3}');
    const r = spawnSync(process.execPath, [script, json, '--print'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('not a ctdbng-bench --json document');
  });
});
