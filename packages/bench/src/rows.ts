// One run's results as flat rows: every figure with its ratio to the floor measured in the same
// run (bench `floors`), CTDB 4.17 measured in the same run (bench `ctdb`), the target and whether
// it is met. This is the `--json` document's `rows` and the source of the markdown tables.
// Constants from FIGURES.md / FLOOR.md travel as `ctdb_constant` and never become a ratio.
import { fmtValue, higherIsBetter, targetText, type BenchResult, type Constant, type Figure, type Target, type TargetOn, type Unit } from './report.js';

/** The bench names of the two reference results. */
export const floorsBench = 'floors';
export const ctdbBench = 'ctdb';

export interface RowTarget { op: '<=' | '>='; value: number; on: TargetOn; text: string }

export interface Row {
  bench: string;
  id: string | null;
  figure: string;
  value: number | null;
  unit: Unit;
  min: number | null;
  median: number | null;
  max: number | null;
  n: number | null;
  /** The floor's value (same unit), measured in this run; null where there is none. */
  floor: number | null;
  floor_figure: string | null;
  ratio_to_floor: number | null;
  /** CTDB 4.17's value (same unit) measured in this run; null where there is none. */
  ctdb: number | null;
  ctdb_min: number | null;
  ctdb_max: number | null;
  ctdb_n: number | null;
  ctdb_figure: string | null;
  /** value / ctdb (for a time, below 1 is faster than CTDB; for a rate, above 1). */
  ratio_to_ctdb: number | null;
  ctdb_constant: Constant | null;
  target: RowTarget | null;
  met: boolean | null;
  headline: boolean;
  /** Why the benchmark gave no figures (the row then stands for the whole benchmark). */
  skipped: string | null;
}

function num(x: number | undefined): number | null {
  return x === undefined || !Number.isFinite(x) ? null : x;
}

/** a / b when both are finite numbers and b > 0. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

/** Whether `t` is met by a row's value or ratios; null when what it needs is missing. */
export function isMet(t: Target, r: Pick<Row, 'value' | 'ratio_to_floor' | 'ratio_to_ctdb'>): boolean | null {
  const on = t.on ?? 'value';
  const x = on === 'value' ? r.value : on === 'floor' ? r.ratio_to_floor : r.ratio_to_ctdb;
  if (x === null) return null;
  return t.op === '<=' ? x <= t.value : x >= t.value;
}

function figureIndex(results: readonly BenchResult[], bench: string): Map<string, Figure> {
  const m = new Map<string, Figure>();
  for (const r of results) {
    if (r.bench !== bench) continue;
    for (const f of r.figures) if (f.id !== undefined) m.set(f.id, f);
  }
  return m;
}

export interface RowOptions {
  /** A smoke run: targets are left out (and so is met). */
  quick: boolean;
}

/**
 * Rows of every result but CTDB's own, whose figures appear in the ctdb columns of ours (unless
 * CTDB's result is all there is: `ctdbng-bench peer` alone).
 */
export function buildRows(results: readonly BenchResult[], o: RowOptions): Row[] {
  const floors = figureIndex(results, floorsBench);
  const ctdb = figureIndex(results, ctdbBench);
  const ctdbAlone = results.every((r) => r.bench === ctdbBench);
  const rows: Row[] = [];
  for (const r of results) {
    if (r.bench === ctdbBench && !ctdbAlone) continue;
    if (r.skipped !== undefined) {
      rows.push({ ...emptyRow(r.bench), figure: 'skipped', skipped: r.skipped });
      continue;
    }
    for (const f of r.figures) rows.push(rowOf(r.bench, f, floors, ctdb, o));
  }
  return rows;
}

function emptyRow(bench: string): Row {
  return {
    bench, id: null, figure: '', value: null, unit: 'count', min: null, median: null, max: null, n: null,
    floor: null, floor_figure: null, ratio_to_floor: null,
    ctdb: null, ctdb_min: null, ctdb_max: null, ctdb_n: null, ctdb_figure: null, ratio_to_ctdb: null, ctdb_constant: null,
    target: null, met: null, headline: false, skipped: null,
  };
}

export function rowOf(bench: string, f: Figure, floors: ReadonlyMap<string, Figure>, ctdb: ReadonlyMap<string, Figure>, o: RowOptions): Row {
  const fl = f.floorRef === undefined ? undefined : floors.get(f.floorRef);
  const c = f.ctdbRef === undefined ? undefined : ctdb.get(f.ctdbRef);
  // A reference in another unit would make a meaningless ratio: refuse it loudly.
  if (fl !== undefined && fl.unit !== f.unit) throw new Error(`${bench} ${f.label}: floor ${fl.id} is in ${fl.unit}, not ${f.unit}`);
  if (c !== undefined && c.unit !== f.unit) throw new Error(`${bench} ${f.label}: CTDB figure ${c.id} is in ${c.unit}, not ${f.unit}`);
  const value = num(f.value);
  const floor = num(fl?.value);
  const ctdbValue = num(c?.value);
  const row: Row = {
    ...emptyRow(bench),
    id: f.id ?? null,
    figure: f.label,
    value,
    unit: f.unit,
    min: num(f.spread?.min), median: num(f.spread?.median), max: num(f.spread?.max), n: f.spread === undefined ? null : f.spread.n,
    floor, floor_figure: fl === undefined ? null : fl.short ?? fl.label, ratio_to_floor: ratio(value, floor),
    ctdb: ctdbValue, ctdb_min: num(c?.spread?.min), ctdb_max: num(c?.spread?.max), ctdb_n: c?.spread === undefined ? null : c.spread.n,
    ctdb_figure: c?.label ?? null, ratio_to_ctdb: ratio(value, ctdbValue),
    ctdb_constant: f.ctdbConstant ?? null,
    headline: f.headline === true,
  };
  if (f.target !== undefined && !o.quick) {
    row.target = { op: f.target.op, value: f.target.value, on: f.target.on ?? 'value', text: targetText(f.target, f.unit) };
    row.met = isMet(f.target, row);
  }
  return row;
}

/** "ctdb-ng 3.1× faster" / "ctdb-ng 2.0× slower", from value / CTDB's value in `unit`. */
export function versusText(ratioToCtdb: number | null, unit: Unit): string {
  if (ratioToCtdb === null || ratioToCtdb <= 0) return '';
  const fmt = (r: number): string => r.toFixed(r < 10 ? 2 : 1);
  // A cost (CPU, memory) is more or less, not faster or slower.
  if (unit === '%' || unit === 'MiB') return ratioToCtdb >= 1 ? `${fmt(ratioToCtdb)}× as much` : `${fmt(1 / ratioToCtdb)}× less`;
  const speedup = higherIsBetter(unit) ? ratioToCtdb : 1 / ratioToCtdb;
  const r = speedup >= 1 ? speedup : 1 / speedup;
  return `${fmt(r)}× ${speedup >= 1 ? 'faster' : 'slower'}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function rangeText(min: number | null, max: number | null, n: number | null, unit: Unit): string {
  if (min === null || max === null) return '';
  return ` (${fmtValue(min, unit)} – ${fmtValue(max, unit)}${n !== null ? `, n=${n.toLocaleString('en-US')}` : ''})`;
}

function ctdbCell(r: Row): string {
  if (r.ctdb !== null) return `${fmtValue(r.ctdb, r.unit)}${rangeText(r.ctdb_min, r.ctdb_max, r.ctdb_n, r.unit)}`;
  if (r.ctdb_constant !== null) {
    const k = r.ctdb_constant;
    return `constant, not this run: ${fmtValue(k.value, r.unit)} (${k.source}: ${k.what})`;
  }
  return '';
}

export const tableHeader = [
  '| benchmark | figure | ctdb-ng: median (min – max) | floor, same run | × floor | CTDB 4.17, same run (min – max) | ctdb-ng vs CTDB | target | met? |',
  '|---|---|---|---|---|---|---|---|---|',
];

/** The markdown table of the headline rows (skipped benchmarks show why). */
export function markdownTable(rows: readonly Row[]): string {
  const out = [...tableHeader];
  for (const r of rows) {
    if (r.skipped !== null) {
      out.push(`| ${cell(r.bench)} | skipped: ${cell(r.skipped)} | | | | | | | |`);
      continue;
    }
    if (!r.headline) continue;
    const value = r.value === null ? 'n/a' : `**${fmtValue(r.value, r.unit)}**${rangeText(r.min, r.max, r.n, r.unit)}`;
    const floor = r.floor === null ? '' : `${fmtValue(r.floor, r.unit)} (${r.floor_figure ?? ''})`;
    const xFloor = r.ratio_to_floor === null ? '' : `${r.ratio_to_floor.toFixed(2)}×`;
    const met = r.met === null ? '' : r.met ? 'yes' : 'NO';
    out.push(`| ${cell(r.bench)} | ${cell(r.figure)} | ${value} | ${cell(floor)} | ${xFloor} | ${cell(ctdbCell(r))} | ${versusText(r.ratio_to_ctdb, r.unit)} | ${r.target?.text ?? ''} | ${met} |`);
  }
  return `${out.join('\n')}\n`;
}
