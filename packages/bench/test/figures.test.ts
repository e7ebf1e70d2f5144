// The figures that join across benchmarks: the same ids on ctdb-ng's side and CTDB's, the floor
// and CTDB references only on ours, and the targets of issue 12 where they belong.
import { describe, expect, it } from 'vitest';
import { cliFigures, dumpedCount, growthFigure, idleFigures, spreadOf, vacuumFigures, type CliCallsResult } from '@ctdbng/bench';

const calls: CliCallsResult = {
  series: { pnn: [100, 110, 90], writekeyLocal: [1], readkeyLocal: [1], writekeyRemote: [1], readkeyRemote: [1] },
  loop: { keys: 4, callMs: [250, 250, 250, 250] },
  catdb: { records: 5, ms: [200, 300] },
};

describe('cliFigures', () => {
  it('ctdb-ng\'s side refers to the node-start floor and to CTDB\'s figure of the same id', () => {
    const f = cliFigures(calls, { side: 'ctdbng', nodeStartFloor: 'floor.node-start' });
    const pnn = f.find((x) => x.id === 'cli.pnn')!;
    expect(pnn).toMatchObject({ value: 100, unit: 'ms', floorRef: 'floor.node-start', ctdbRef: 'cli.pnn', target: { op: '<=', value: 1.5, on: 'floor' } });
    expect(pnn.spread).toEqual({ min: 90, median: 100, max: 110, n: 3 });
    const rate = f.find((x) => x.id === 'cli.writeloop.rate')!;
    expect(rate.value).toBeCloseTo(4);
    expect(rate.unit).toBe('keys/s');
    expect(f.find((x) => x.id === 'cli.catdb.small')!.value).toBe(250);
  });
  it('CTDB\'s side has the same ids and no references or targets', () => {
    const f = cliFigures(calls, { side: 'ctdb' });
    expect(f.map((x) => x.id)).toEqual(cliFigures(calls, { side: 'ctdbng', nodeStartFloor: 'x' }).map((x) => x.id));
    for (const x of f) {
      expect(x.floorRef).toBeUndefined();
      expect(x.ctdbRef).toBeUndefined();
      expect(x.target).toBeUndefined();
    }
  });
  it('dumpedCount reads the last line of catdb', () => {
    expect(dumpedCount('key(3) = "a"\nDumped 301 records\n')).toBe(301);
    expect(dumpedCount('nothing')).toBeNaN();
  });
});

describe('vacuumFigures', () => {
  const runs = [{ afterLastSec: 1, afterFirstSec: 2, deleteSec: 1 }, { afterLastSec: 3, afterFirstSec: 4, deleteSec: 1 }, { afterLastSec: 2, afterFirstSec: 3, deleteSec: 1 }];
  it('ids carry the variant and the interval; CTDB\'s same-run figure is referred to, FIGURES.md is a constant', () => {
    const f = vacuumFigures({ records: 10_000, deletes: 1_000 }, 10, runs);
    expect(f[0]).toMatchObject({ id: 'vacuum:10000/1000@10.last', value: 2, ctdbRef: 'vacuum:10000/1000@10.last', ctdbConstant: { value: 12.5 } });
    expect(f[0]!.spread).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(f[0]!.target).toBeUndefined();
  });
  it('the 5,000-in-100,000 target applies at ctdb-ng\'s default interval only', () => {
    expect(vacuumFigures({ records: 100_000, deletes: 5_000 }, 1, runs)[0]!.target).toEqual({ op: '<=', value: 2 });
    expect(vacuumFigures({ records: 100_000, deletes: 5_000 }, 10, runs)[0]!.target).toBeUndefined();
    expect(vacuumFigures({ records: 100_000, deletes: 5_000 }, undefined, runs)[0]!.ctdbRef).toBeUndefined();
  });
});

describe('idleFigures', () => {
  const w = [{ cpuSec: 0.3, wallSec: 10, percentOfCore: 3, processes: 12 }, { cpuSec: 0.6, wallSec: 10, percentOfCore: 6, processes: 12 }];
  it('per node and whole cluster, with the targets of issue 12 on our side only', () => {
    const ours = idleFigures(3, w, true);
    expect(ours[0]).toMatchObject({ id: 'idle.3.per-node', value: 1.5, target: { op: '<=', value: 1 }, ctdbRef: 'idle.3.per-node' });
    const theirs = idleFigures(3, w, false);
    expect(theirs[0]!.target).toBeUndefined();
    expect(idleFigures(16, w, true)[1]!.target).toEqual({ op: '<=', value: 15 });
  });
});

describe('growthFigure', () => {
  it('1,000,000 over 100,000 records, with the ≤ 10× target', () => {
    const small = { bench: 'recovery', command: '', notes: [], figures: [{ id: 'recovery.duration:100000', label: '', value: 0.5, unit: 's' as const }] };
    const big = { bench: 'recovery', command: '', notes: [], figures: [{ id: 'recovery.duration:1000000', label: '', value: 6, unit: 's' as const }] };
    expect(growthFigure(small, big, 100_000, 1_000_000)).toMatchObject({ value: 12, unit: 'ratio', target: { op: '<=', value: 10 } });
    expect(growthFigure(small, small, 100_000, 1_000_000)).toBeUndefined();
  });
  it('spreadOf skips what is not a number', () => {
    expect(spreadOf([3, Number.NaN, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(spreadOf([]).n).toBe(0);
  });
});
