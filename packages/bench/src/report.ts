// Result shapes of every benchmark and their text form. The cross-benchmark view (ratios to the
// floors and to CTDB measured in the same run, targets, the JSON rows and the markdown table) is
// rows.ts.
import { fmtRate, fmtSec, fmtUs, type Spread } from './stats.js';

export type Unit = 'us' | 'ms' | 's' | 'ops/s' | 'keys/s' | 'records/s' | 'count' | 'MiB' | 'ratio' | '%';

/** A reference figure of CTDB from another day (FIGURES.md, FLOOR.md): shown, never made a ratio. */
export interface Constant {
  value: number;
  /** The document it comes from, e.g. 'FLOOR.md §2'. */
  source: string;
  /** What CTDB's figure is (its operation can differ from ours: say how). */
  what: string;
}

/**
 * What a target is compared with: the figure itself ('value', in its unit), or its ratio to the
 * floor or to CTDB measured in the same run ('floor', 'ctdb').
 */
export type TargetOn = 'value' | 'floor' | 'ctdb';

export interface Target {
  op: '<=' | '>=';
  value: number;
  on?: TargetOn;
}

export interface Figure {
  /** Stable name for joins and JSON consumers, e.g. 'cli.pnn', 'floor.sqlite.2tx.p50'. */
  id?: string;
  label: string;
  /** A short name, where the figure is shown as another one's floor. */
  short?: string;
  value: number;
  unit: Unit;
  /** Min, median and max of the runs (or the samples) behind value. */
  spread?: Spread;
  target?: Target;
  /** Shown in the `all` table. */
  headline?: boolean;
  /** id of the figure of `floors` (same run) this one is divided by. */
  floorRef?: string;
  /** id of the figure of `ctdb` (CTDB 4.17, same run) this one is compared with. */
  ctdbRef?: string;
  ctdbConstant?: Constant;
}

export interface BenchResult {
  bench: string;
  /** The exact command that reproduces this result. */
  command: string;
  figures: Figure[];
  notes: string[];
  /** Set when the benchmark could not run (why). */
  skipped?: string;
  elapsedSec?: number;
}

function fmtCount(value: number, suffix: string): string {
  return Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')}${suffix}` : 'n/a';
}

export function fmtValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'us': return fmtUs(value);
    case 'ms': return Number.isFinite(value) ? (value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`) : 'n/a';
    case 's': return fmtSec(value);
    case 'ops/s': return fmtRate(value);
    case 'keys/s': return Number.isFinite(value) ? `${value.toFixed(value < 100 ? 1 : 0)} keys/s` : 'n/a';
    case 'records/s': return fmtCount(value, ' records/s');
    case 'count': return fmtCount(value, '');
    case 'MiB': return Number.isFinite(value) ? `${value.toFixed(1)} MiB` : 'n/a';
    case 'ratio': return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
    case '%': return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} %` : 'n/a';
  }
}

/** Units where more is better (rates). */
export function higherIsBetter(unit: Unit): boolean {
  return unit === 'ops/s' || unit === 'keys/s' || unit === 'records/s';
}

export function targetText(t: Target, unit: Unit): string {
  const op = t.op === '<=' ? '≤' : '≥';
  switch (t.on ?? 'value') {
    case 'value': return `${op} ${fmtValue(t.value, unit)}`;
    case 'floor': return `${op} ${t.value}× floor`;
    case 'ctdb': return `${op} ${t.value}× CTDB`;
  }
}

export function spreadText(s: Spread | undefined, unit: Unit): string {
  if (s === undefined || s.n === 0) return '';
  return `min ${fmtValue(s.min, unit)}, median ${fmtValue(s.median, unit)}, max ${fmtValue(s.max, unit)}, n=${s.n.toLocaleString('en-US')}`;
}

export function resultText(r: BenchResult): string {
  const out = [`## ${r.bench}`, `command: ${r.command}`];
  if (r.skipped !== undefined) out.push(`SKIPPED: ${r.skipped}`);
  for (const f of r.figures) {
    let line = `  ${f.label}: ${fmtValue(f.value, f.unit)}`;
    const s = spreadText(f.spread, f.unit);
    if (s !== '') line += `   (${s})`;
    if (f.target !== undefined) line += `   [target ${targetText(f.target, f.unit)}]`;
    if (f.ctdbConstant !== undefined) {
      line += `   [CTDB 4.17 constant, not this run: ${fmtValue(f.ctdbConstant.value, f.unit)}, ${f.ctdbConstant.what} (${f.ctdbConstant.source})]`;
    }
    out.push(line);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  if (r.elapsedSec !== undefined) out.push(`  (benchmark took ${r.elapsedSec.toFixed(1)} s)`);
  return `${out.join('\n')}\n`;
}
