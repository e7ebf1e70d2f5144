// Result shapes of every benchmark, their text form, and the markdown table of `all`.
import { fmtRate, fmtSec, fmtUs } from './stats.js';

export type Unit = 'us' | 'ops/s' | 's' | 'records/s' | 'count' | 'MiB' | 'ratio';

export interface Comparison {
  /** CTDB's figure in the same unit. */
  value: number;
  /** 'measured' in this run by `peer`, or the reference document it comes from. */
  source: string;
  /** What CTDB's figure is (its operation can differ from ours: say how). */
  what: string;
}

export interface Figure {
  label: string;
  value: number;
  unit: Unit;
  target?: { op: '<=' | '>='; value: number };
  /** Shown in the `all` table. */
  headline?: boolean;
  ctdb?: Comparison;
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

export function fmtValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'us': return fmtUs(value);
    case 'ops/s': return fmtRate(value);
    case 'records/s': return Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')} records/s` : 'n/a';
    case 's': return fmtSec(value);
    case 'count': return Number.isFinite(value) ? value.toLocaleString('en-US') : 'n/a';
    case 'MiB': return Number.isFinite(value) ? `${value.toFixed(1)} MiB` : 'n/a';
    case 'ratio': return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
  }
}

export function met(f: Figure): boolean | undefined {
  if (f.target === undefined || !Number.isFinite(f.value)) return undefined;
  return f.target.op === '<=' ? f.value <= f.target.value : f.value >= f.target.value;
}

function higherIsBetter(unit: Unit): boolean {
  return unit === 'ops/s' || unit === 'records/s';
}

/** "ctdb-ng 3.1× faster" / "ctdb-ng 2.0× slower" (a ratio always ≥ 1 with its direction). */
export function versus(f: Figure): string | undefined {
  const c = f.ctdb;
  if (c === undefined || !Number.isFinite(c.value) || !Number.isFinite(f.value) || c.value <= 0 || f.value <= 0) return undefined;
  const speedup = higherIsBetter(f.unit) ? f.value / c.value : c.value / f.value;
  const word = speedup >= 1 ? 'faster' : 'slower';
  const r = speedup >= 1 ? speedup : 1 / speedup;
  return `ctdb-ng ${r.toFixed(r < 10 ? 2 : 1)}× ${word}`;
}

function targetText(f: Figure): string {
  if (f.target === undefined) return '';
  return `${f.target.op === '<=' ? '≤' : '≥'} ${fmtValue(f.target.value, f.unit)}`;
}

export function resultText(r: BenchResult): string {
  const out = [`## ${r.bench}`, `command: ${r.command}`];
  if (r.skipped !== undefined) {
    out.push(`SKIPPED: ${r.skipped}`);
  }
  for (const f of r.figures) {
    let line = `  ${f.label}: ${fmtValue(f.value, f.unit)}`;
    const m = met(f);
    if (f.target !== undefined) line += `   (target ${targetText(f)}: ${m === true ? 'met' : m === false ? 'NOT met' : 'n/a'})`;
    if (f.ctdb !== undefined) {
      line += `   [CTDB 4.17 ${fmtValue(f.ctdb.value, f.unit)}, ${f.ctdb.what} (${f.ctdb.source})`;
      const v = versus(f);
      line += v === undefined ? ']' : `: ${v}]`;
    }
    out.push(line);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  if (r.elapsedSec !== undefined) out.push(`  (benchmark took ${r.elapsedSec.toFixed(1)} s)`);
  return `${out.join('\n')}\n`;
}

export function markdownTable(results: readonly BenchResult[]): string {
  const rows = ['| benchmark | figure | target | met? | vs CTDB 4.17 |', '|---|---|---|---|---|'];
  for (const r of results) {
    if (r.skipped !== undefined) {
      rows.push(`| ${r.bench} | skipped: ${r.skipped.replace(/\|/g, '/')} | | | |`);
      continue;
    }
    for (const f of r.figures.filter((x) => x.headline === true)) {
      const m = met(f);
      const c = f.ctdb;
      const vs = c === undefined ? '' : `${fmtValue(c.value, f.unit)} (${c.source}): ${versus(f) ?? 'n/a'}`;
      rows.push(`| ${r.bench} | ${f.label}: **${fmtValue(f.value, f.unit)}** | ${targetText(f)} | ${m === undefined ? '' : m ? 'yes' : 'NO'} | ${vs} |`);
    }
  }
  return `${rows.join('\n')}\n`;
}
