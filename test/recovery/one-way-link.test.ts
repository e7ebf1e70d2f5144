// A one-way cut (DESIGN §2.2): node 2's outbound node messages are dropped while a shared-access
// client on node 2 keeps writing. Node 2 cannot renew its lease, so within SharedAccessLease
// (+ 1 s) it stops acknowledging writes; the majority recovers without it after waiting out that
// lease; no write acknowledged on node 2 after the others took its records exists anywhere.
import { expect, test } from 'vitest';
import { keyWithLmaster, startScript, useCluster } from '../helpers/cluster.js';
import { catdb, cattdb, clearFaults, ctdbngOk, fastTunables, nodeStates, waitSettled, writeFaults } from '../helpers/recovery.js';

const leaseMs = fastTunables['SharedAccessLease']!;
const fx = useCluster('rec-one-way', { portBase: 15_200, tunables: fastTunables });
const dbName = 'one-way.tdb';

function acks(stdout: string): { value: number; ns: bigint }[] {
  return stdout.split('\n').flatMap((l) => {
    const m = /^ack (\d+) (\d+)$/.exec(l);
    return m === null ? [] : [{ value: Number(m[1]), ns: BigInt(m[2]!) }];
  });
}

test("node 2's outbound node messages dropped while a shared-access client writes there: node 2 stops acknowledging within the lease, the majority recovers without it, and no write acknowledged after the takeover exists", async () => {
  await ctdbngOk(fx, 0, ['attach', dbName]);
  const key = keyWithLmaster('one-way', 2, [0, 1, 2]);
  await ctdbngOk(fx, 2, ['writekey', dbName, key, '0']); // created on node 2, its lmaster: dmaster 2
  const writer = startScript(fx, 'write-loop.mjs', [fx.nodeBase(2), dbName, key, 'shared', '2000']);
  await writer.line(/^ready$/);
  await expect.poll(() => acks(writer.stdout).length, { timeout: 20_000 }).toBeGreaterThan(50);

  const cutNs = process.hrtime.bigint();
  writeFaults(fx, 2, { oneWay: { dropTo: [0, 1] } });
  // The majority recovers without node 2.
  await waitSettled(fx, [0, 1], [0, 1], 30_000);
  const takeoverNs = process.hrtime.bigint();
  const acked = acks(writer.stdout);
  const last = acked.at(-1)!;
  // Node 2 stopped acknowledging within SharedAccessLease + 1 s of the cut (the fault switch is
  // re-read within 50 ms).
  expect(Number(last.ns - cutNs) / 1e6).toBeLessThan(leaseMs + 1000);
  expect(acked.filter((a) => a.ns > takeoverNs)).toEqual([]);

  // The majority serves the record (it holds an older value: node 2, its only holder, was left out, §5.4).
  const seen = Number((await catdb(fx, 0, dbName)).get(key)?.data ?? '0');
  await ctdbngOk(fx, 0, ['writekey', dbName, key, 'after-takeover']);

  // Stopped before the heal: once node 2 is taken in again, its writes are legitimate ones.
  await writer.kill();
  expect(acks(writer.stdout).filter((a) => a.ns > takeoverNs)).toEqual([]);
  clearFaults(fx, 2);
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 30_000);
  // No write node 2 acknowledged after the takeover exists anywhere; the majority's write stands.
  for (const p of [0, 1, 2]) expect((await cattdb(fx, p, dbName)).get(key)?.data, `node ${p}`).toBe('after-takeover');
  expect(seen).toBeLessThanOrEqual(last.value);
  const states = await nodeStates(fx, [0, 1, 2]);
  expect(states.every((s) => s?.joined === true)).toBe(true);
});
