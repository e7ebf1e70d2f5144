// fetch_lock excludes across nodes: two processes on different nodes incrementing one counter
// record lose no increment while the record migrates back and forth (DESIGN §2.1).
import { expect, test } from 'vitest';
import { keyWithLmaster, startScript, startTogether, useCluster } from '../helpers/cluster.js';

const fx = useCluster('counter', { portBase: 11_400 });
const dbName = 'counter.tdb';
const perClient = 500;

test('Two clients on different nodes incrementing one counter record 500 times each under fetch_lock → final value 1000', async () => {
  const c1 = await fx.client(1);
  const db = await c1.attach(dbName);
  const key = keyWithLmaster('counter', 1, (await c1.getVnnMap()).pnns);

  const on0 = startScript(fx, 'incr.mjs', [fx.nodeBase(0), dbName, key, String(perClient), 'dbd', 'barrier']);
  const on2 = startScript(fx, 'incr.mjs', [fx.nodeBase(2), dbName, key, String(perClient), 'dbd', 'barrier']);
  await startTogether([on0, on2]);
  const outs = await Promise.all([on0.success(), on2.success()]);
  for (const out of outs) expect(JSON.parse(out)).toMatchObject({ done: perClient });

  const final = await db.fetch(key);
  expect(final.found).toBe(true);
  expect(final.data.toString()).toBe(String(2 * perClient));
  const migrations = await Promise.all([0, 2].map(async (p) => (await c1.statistics({ pnn: p })).counters['migrations_in']!));
  // Both nodes held the record (both started together, so they raced for it).
  expect(migrations[0]).toBeGreaterThan(0);
  expect(migrations[1]).toBeGreaterThan(0);
});
