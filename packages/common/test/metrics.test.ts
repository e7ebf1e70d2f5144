// Prometheus text exposition (STYLE §2): counters, gauges, histograms, served at /metrics.
import { describe, expect, onTestFinished, test } from 'vitest';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, serveMetrics } from '@ctdbng/common';

describe('metrics rendering', () => {
  test('a counter renders HELP, TYPE and one line per label set', () => {
    const c = new Counter('ctdbng_migrations_total', 'Records migrated.');
    c.inc({ db: 'a' });
    c.inc({ db: 'a' }, 2);
    c.inc({ db: 'b"\\' });
    expect(c.render()).toBe([
      '# HELP ctdbng_migrations_total Records migrated.',
      '# TYPE ctdbng_migrations_total counter',
      'ctdbng_migrations_total{db="a"} 3',
      'ctdbng_migrations_total{db="b\\"\\\\"} 1',
    ].join('\n'));
  });

  test('a counter never incremented renders 0', () => {
    expect(new Counter('x_total', 'X.').render()).toContain('\nx_total 0');
  });

  test('a gauge with a collect function renders the collected value', () => {
    let pending = 4;
    const g = new Gauge('ctdbng_vacuum_pending_records', 'Tombstones queued.', () => pending);
    expect(g.render()).toContain('\nctdbng_vacuum_pending_records 4');
    pending = 9;
    expect(g.render()).toContain('\nctdbng_vacuum_pending_records 9');
  });

  test('a histogram renders cumulative buckets, +Inf, sum and count', () => {
    const h = new Histogram('ctdbng_call_duration_seconds', 'Call latency.', [0.1, 1]);
    h.observe(0.05, { db: 'a' });
    h.observe(0.5, { db: 'a' });
    h.observe(5, { db: 'a' });
    expect(h.render()).toBe([
      '# HELP ctdbng_call_duration_seconds Call latency.',
      '# TYPE ctdbng_call_duration_seconds histogram',
      'ctdbng_call_duration_seconds_bucket{db="a",le="0.1"} 1',
      'ctdbng_call_duration_seconds_bucket{db="a",le="1"} 2',
      'ctdbng_call_duration_seconds_bucket{db="a",le="+Inf"} 3',
      'ctdbng_call_duration_seconds_sum{db="a"} 5.55',
      'ctdbng_call_duration_seconds_count{db="a"} 3',
    ].join('\n'));
  });

  test('a registry refuses a metric name registered twice', () => {
    const r = new Registry();
    r.counter('x_total', 'X.');
    expect(() => r.gauge('x_total', 'X.')).toThrow(/registered twice/);
  });
});

describe('serveMetrics', () => {
  test('GET /metrics over HTTP returns the registry text; other paths are 404', async () => {
    const registry = new Registry();
    registry.counter('ctdbng_requests_total', 'Requests served.').inc({ db: 'a' });
    const server = await serveMetrics(registry, '127.0.0.1', 0);
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const { port } = server.address() as AddressInfo;

    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await res.text()).toBe(registry.render());

    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });
});
