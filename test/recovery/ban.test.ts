// A node that fails recovery repeatedly is banned for RecoveryBanPeriod, then rejoins: with the fault
// switch's failRecovery (run/faults.json) node 2's dbd fails every recovery step; after
// RecoveryBanCount failed recoveries in a row the leader bans it (BANNED, out of the vnnmap); the
// fault cleared, the ban runs out and the node is OK and a member again (DESIGN §5.3.4).
import { expect, test } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { clearFaults, fastTunables, nodeState, status, waitSettled, writeFaults } from '../helpers/recovery.js';

const banPeriodSeconds = 3;
const fx = useCluster('rec-ban', { portBase: 14_050, tunables: { ...fastTunables, RecoveryBanCount: 2, RecoveryBanPeriod: banPeriodSeconds } });

test('A node that fails recovery repeatedly is banned for RecoveryBanPeriod, then rejoins', async () => {
  fx.defer(() => clearFaults(fx, 2));
  await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
  writeFaults(fx, 2, { failRecovery: true });
  // dbd re-reads the faults file at most every 50 ms, so a recovery that starts right away may
  // still succeed: ask again until the ban shows (the leader retries failed recoveries itself).
  const c0 = await fx.client(0);
  await expect.poll(async () => {
    const flags = (await status(fx, 0)).nodes.find((n) => n.pnn === 2)?.flags ?? [];
    if (!flags.includes('BANNED')) await c0.requestRecovery('test: node 2 fails recovery');
    return flags;
  }, { timeout: 30_000, interval: 300 }).toContain('BANNED');
  const banned = await nodeState(fx, 2);
  expect(banned).toMatchObject({ banned: true, frozen: true });
  expect(banned!.banRemainingSeconds).toBeGreaterThan(0);
  expect(banned!.banRemainingSeconds).toBeLessThanOrEqual(banPeriodSeconds);
  clearFaults(fx, 2);
  // The others go on without it meanwhile.
  await waitSettled(fx, [0, 1], [0, 1]);

  // The ban runs out; the node rejoins: OK everywhere and in the vnnmap.
  await waitSettled(fx, [0, 1, 2], [0, 1, 2], 30_000);
  for (const p of [0, 1, 2]) expect((await status(fx, p)).nodes.map((n) => n.flags)).toEqual([['OK'], ['OK'], ['OK']]);
});
