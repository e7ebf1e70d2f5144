// The vacuum benchmarks decide "purged" from vacuumd's Prometheus text: parse it right.
import { describe, expect, it } from 'vitest';
import { metricSum, parseMetrics } from '@ctdbng/bench';

const text = [
  '# HELP ctdbng_vacuum_pending_records Deletions vacuumd holds that are not yet purged from every node.',
  '# TYPE ctdbng_vacuum_pending_records gauge',
  'ctdbng_vacuum_pending_records{db="a.db"} 12',
  'ctdbng_vacuum_pending_records{db="b.db"} 0',
  'ctdbng_vacuum_purged_total{db="a.db"} 4000',
  'ctdbng_recoverd_recovery_duration_seconds_sum 0.375',
  'ctdbng_recoverd_recovery_duration_seconds_count 3',
  'odd_label{db="q\\"x"} 1',
  '',
].join('\n');

describe('parseMetrics / metricSum', () => {
  const s = parseMetrics(text);
  it('reads samples with and without labels, skipping comments', () => {
    expect(s).toHaveLength(6);
    expect(metricSum(s, 'ctdbng_recoverd_recovery_duration_seconds_sum')).toBeCloseTo(0.375);
  });
  it('filters by label and sums the rest', () => {
    expect(metricSum(s, 'ctdbng_vacuum_pending_records', { db: 'a.db' })).toBe(12);
    expect(metricSum(s, 'ctdbng_vacuum_pending_records')).toBe(12);
    expect(metricSum(s, 'ctdbng_vacuum_pending_records', { db: 'none.db' })).toBe(0);
  });
  it('keeps escaped quotes inside a label value', () => {
    expect(s.find((x) => x.name === 'odd_label')?.labels['db']).toBe('q\\"x');
  });
});
