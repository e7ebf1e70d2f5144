// The CLI's exit status says what went wrong (DESIGN §10): 2 for a usage error, 1 for a failure
// with one line on stderr; neither disturbs the node.
import { expect, test } from 'vitest';
import { ctdbng, ctdbngJson, useCluster } from '../helpers/cluster.js';

const fx = useCluster('bad-cli', { portBase: 12_000 });

test('a CLI usage error exits 2 with one line on stderr', async () => {
  for (const args of [['frobnicate'], ['readkey'], ['--json', 'pnn', 'extra'], ['-n', 'seven', 'status'], []]) {
    const r = await ctdbng(fx.nodeBase(0), args);
    expect(r.code, `ctdbng ${args.join(' ')}`).toBe(2);
    expect(r.stderr.trimEnd().split('\n'), `ctdbng ${args.join(' ')}`).toHaveLength(1);
    expect(r.stdout).toBe('');
  }
});

test('a CLI failure (readkey on an unknown db) exits 1 with one line on stderr', async () => {
  const r = await ctdbng(fx.nodeBase(0), ['readkey', 'no-such.tdb', 'k']);
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ctdbng: .*no-such\.tdb/);
  expect(r.stdout).toBe('');
  // The node still serves.
  expect(await ctdbngJson(fx.nodeBase(0), ['pnn'])).toEqual({ pnn: 0 });
});
