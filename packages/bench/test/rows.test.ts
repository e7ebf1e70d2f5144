// The JSON rows of a run: ratios to the floor and to CTDB come from figures of the same run only,
// constants never become a ratio, and targets are judged on what they name.
import { describe, expect, it } from 'vitest';
import { buildRows, isMet, markdownTable, ratio, versusText, type BenchResult, type Row } from '@ctdbng/bench';

const floors: BenchResult = {
  bench: 'floors', command: 'x', notes: [],
  figures: [
    { id: 'floor.sqlite.2tx.p50', label: 'SQLite, 2 transactions, p50', short: 'bare SQLite, 2 tx', value: 30, unit: 'us' },
    { id: 'floor.node-start', label: "node -e ''", value: 80, unit: 'ms' },
  ],
};
const ctdb: BenchResult = {
  bench: 'ctdb', command: 'y', notes: [],
  figures: [
    { id: 'cli.pnn', label: 'CTDB: pnn', value: 20, unit: 'ms', spread: { min: 18, median: 20, max: 25, n: 5 } },
    { id: 'recovery.duration:100000', label: 'CTDB: recovery', value: 1.0, unit: 's' },
  ],
};
const ours: BenchResult[] = [
  { bench: 'local-shared', command: 'z', notes: [], figures: [
    { id: 'local-shared.p50', label: 'p50', value: 60, unit: 'us', headline: true, floorRef: 'floor.sqlite.2tx.p50', target: { op: '<=', value: 1.25, on: 'floor' },
      ctdbConstant: { value: 1, source: 'FLOOR.md §2', what: 'fetch_loop_key' } },
  ] },
  { bench: 'cli', command: 'c', notes: [], figures: [
    { id: 'cli.pnn', label: 'CLI pnn', value: 100, unit: 'ms', spread: { min: 90, median: 100, max: 130, n: 5 }, headline: true, floorRef: 'floor.node-start', ctdbRef: 'cli.pnn',
      target: { op: '<=', value: 1.5, on: 'floor' } },
  ] },
  { bench: 'recovery', command: 'r', notes: [], figures: [
    { id: 'recovery.duration:100000', label: 'recovery', value: 0.4, unit: 's', headline: true, ctdbRef: 'recovery.duration:100000', target: { op: '<=', value: 0.5, on: 'ctdb' } },
  ] },
  { bench: 'startup', command: 's', notes: [], figures: [{ id: 'start.3.up', label: 'up', value: 2, unit: 's', headline: true, target: { op: '<=', value: 1.5 } }] },
  { bench: 'idle', command: '', notes: [], figures: [], skipped: 'failed: no cluster' },
];

const rowKeys = [
  'bench', 'id', 'figure', 'value', 'unit', 'min', 'median', 'max', 'n', 'floor', 'floor_figure', 'ratio_to_floor',
  'ctdb', 'ctdb_min', 'ctdb_max', 'ctdb_n', 'ctdb_figure', 'ratio_to_ctdb', 'ctdb_constant', 'target', 'met', 'headline', 'skipped',
];

function byId(rows: Row[], id: string): Row {
  const r = rows.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no row ${id}`);
  return r;
}

describe('buildRows', () => {
  const rows = buildRows([floors, ...ours, ctdb], { quick: false });

  it('every row has the same keys, and CTDB\'s own figures are not rows', () => {
    for (const r of rows) expect(Object.keys(r).sort()).toEqual([...rowKeys].sort());
    expect(rows.some((r) => r.bench === 'ctdb')).toBe(false);
    expect(rows.filter((r) => r.bench === 'floors')).toHaveLength(2);
  });

  it('a row divided by its floor measured in the same run, with the floor\'s short name', () => {
    const r = byId(rows, 'local-shared.p50');
    expect(r.floor).toBe(30);
    expect(r.floor_figure).toBe('bare SQLite, 2 tx');
    expect(r.ratio_to_floor).toBeCloseTo(2);
    expect(r.target).toEqual({ op: '<=', value: 1.25, on: 'floor', text: '≤ 1.25× floor' });
    expect(r.met).toBe(false);
  });

  it('a constant from FLOOR.md stays a constant: no ctdb value and no ratio', () => {
    const r = byId(rows, 'local-shared.p50');
    expect(r.ctdb).toBeNull();
    expect(r.ratio_to_ctdb).toBeNull();
    expect(r.ctdb_constant).toEqual({ value: 1, source: 'FLOOR.md §2', what: 'fetch_loop_key' });
  });

  it('a CLI row joins CTDB measured in the same run, with its min and max', () => {
    const r = byId(rows, 'cli.pnn');
    expect([r.ctdb, r.ctdb_min, r.ctdb_max, r.ctdb_n]).toEqual([20, 18, 25, 5]);
    expect(r.ratio_to_ctdb).toBeCloseTo(5);
    expect([r.min, r.median, r.max, r.n]).toEqual([90, 100, 130, 5]);
    expect(r.ratio_to_floor).toBeCloseTo(1.25);
    expect(r.met).toBe(true);
  });

  it('a target on the ratio to CTDB is judged on that ratio', () => {
    expect(byId(rows, 'recovery.duration:100000').met).toBe(true);
    expect(byId(rows, 'start.3.up').met).toBe(false);
  });

  it('without the peer, a target on CTDB cannot be judged: met is null', () => {
    const r = byId(buildRows([floors, ...ours], { quick: false }), 'recovery.duration:100000');
    expect(r.ctdb).toBeNull();
    expect(r.met).toBeNull();
  });

  it('--quick leaves targets out', () => {
    for (const r of buildRows([floors, ...ours, ctdb], { quick: true })) {
      expect(r.target).toBeNull();
      expect(r.met).toBeNull();
    }
  });

  it('a benchmark that could not run is one row saying why', () => {
    const r = rows.find((x) => x.bench === 'idle')!;
    expect(r.skipped).toBe('failed: no cluster');
    expect(r.value).toBeNull();
  });

  it('NaN values become null, and so do their ratios', () => {
    const res: BenchResult = { bench: 'local-shared', command: '', notes: [], figures: [{ id: 'u', label: 'update', value: Number.NaN, unit: 'us', floorRef: 'floor.sqlite.2tx.p50' }] };
    const r = buildRows([floors, res], { quick: false }).find((x) => x.id === 'u')!;
    expect(r.value).toBeNull();
    expect(r.ratio_to_floor).toBeNull();
    expect(JSON.parse(JSON.stringify(r)).value).toBeNull();
  });

  it('CTDB\'s result alone (`peer` by itself) gives its own rows', () => {
    expect(buildRows([ctdb], { quick: false }).map((r) => r.id)).toEqual(['cli.pnn', 'recovery.duration:100000']);
  });

  it('a floor in another unit is refused', () => {
    const res: BenchResult = { bench: 'x', command: '', notes: [], figures: [{ label: 'bad', value: 1, unit: 's', floorRef: 'floor.node-start' }] };
    expect(() => buildRows([floors, res], { quick: false })).toThrow(/in ms, not s/);
  });
});

describe('ratio, isMet and versusText', () => {
  it('ratio needs two finite numbers and a positive divisor', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(3, Number.NaN)).toBeNull();
  });
  it('isMet compares what the target names, both directions', () => {
    const base = { value: 10, ratio_to_floor: 1.2, ratio_to_ctdb: null };
    expect(isMet({ op: '<=', value: 10 }, base)).toBe(true);
    expect(isMet({ op: '>=', value: 11 }, base)).toBe(false);
    expect(isMet({ op: '<=', value: 1.25, on: 'floor' }, base)).toBe(true);
    expect(isMet({ op: '<=', value: 0.5, on: 'ctdb' }, base)).toBeNull();
  });
  it('versusText says faster or slower by the unit\'s direction', () => {
    expect(versusText(0.5, 's')).toBe('2.00× faster');
    expect(versusText(12.5, 'ms')).toBe('12.5× slower');
    expect(versusText(0.1, 'keys/s')).toBe('10.0× slower');
    expect(versusText(null, 's')).toBe('');
  });
});

describe('markdownTable', () => {
  it('shows headline rows with floor, CTDB, target and met, and skipped benchmarks', () => {
    const t = markdownTable(buildRows([floors, ...ours, ctdb], { quick: false }));
    const line = t.split('\n').find((l) => l.startsWith('| cli |'))!;
    expect(line).toContain('**100.0 ms**');
    expect(line).toContain('1.25×');
    expect(line).toContain('20.0 ms (18.0 ms – 25.0 ms, n=5)');
    expect(line).toContain('5.00× slower');
    expect(line).toContain('| yes |');
    expect(t).toContain('constant, not this run: 1.00 µs (FLOOR.md §2: fetch_loop_key)');
    expect(t).toContain('| idle | skipped: failed: no cluster |');
  });
});
