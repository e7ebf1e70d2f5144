// Percentiles and rates of latency samples (nanoseconds from process.hrtime.bigint()).

export interface LatencySummary {
  n: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
  maxUs: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summary in microseconds of samples in nanoseconds. */
export function summarize(samplesNs: ArrayLike<number>): LatencySummary {
  const s = Float64Array.from(samplesNs as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  const us = (ns: number): number => ns / 1_000;
  return {
    n: s.length,
    p50Us: us(percentileSorted(s, 50)),
    p99Us: us(percentileSorted(s, 99)),
    meanUs: s.length === 0 ? Number.NaN : us(sum / s.length),
    minUs: s.length === 0 ? Number.NaN : us(s[0]!),
    maxUs: s.length === 0 ? Number.NaN : us(s[s.length - 1]!),
  };
}

/** Median of plain numbers (for a handful of runs). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Min, median and max of a handful of runs (or of samples), and how many there were. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spreadOf(xs: readonly number[]): Spread {
  const ok = xs.filter(Number.isFinite);
  if (ok.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, n: 0 };
  return { min: Math.min(...ok), median: median(ok), max: Math.max(...ok), n: ok.length };
}

/** The spread of latency samples in nanoseconds, in microseconds (median = nearest-rank p50). */
export function spreadUsOf(s: LatencySummary): Spread {
  return { min: s.minUs, median: s.p50Us, max: s.maxUs, n: s.n };
}

export function opsPerSec(ops: number, elapsedNs: number | bigint): number {
  const ns = Number(elapsedNs);
  return ns > 0 ? (ops * 1e9) / ns : Number.NaN;
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (us >= 1_000) return `${(us / 1_000).toFixed(3)} ms`;
  return `${us.toFixed(us < 10 ? 2 : 1)} µs`;
}

export function fmtRate(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return `${Math.round(r).toLocaleString('en-US')} ops/s`;
}

export function fmtSec(s: number): string {
  return Number.isFinite(s) ? `${s.toFixed(3)} s` : 'n/a';
}
