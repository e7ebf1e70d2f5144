// No store without a lease (DESIGN §2.2): a client holds a record lock on node 2, then
// `ctdbng -n 2 stop` takes the node out of service at once; the holder's store fails
// (ERR_LOCK_LOST or ERR_STOPPED) and the value the others see is the one before the stop.
import { expect, test } from 'vitest';
import { LockLostError, StoppedError } from '@ctdbng/client';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';
import { catdb, ctdbngOk, fastTunables, waitSettled } from '../helpers/recovery.js';

const fx = useCluster('rec-stop-holder', { portBase: 15_300, tunables: fastTunables });
const dbName = 'stop-holder.tdb';

for (const sharedAccess of [false, true]) {
  test(`a lock held on node 2 (${sharedAccess ? 'shared access' : 'ZeroMQ path'}), then \`ctdbng -n 2 stop\`: the holder's store fails and the others see the value from before the stop`, async () => {
    await ctdbngOk(fx, 0, ['attach', dbName]);
    const key = keyWithLmaster(`stop-${String(sharedAccess)}`, 0, [0, 1, 2]);
    // Written on node 0, then brought to node 2 by a read: node 0 keeps a copy of the value (a
    // record only node 2 held would go with node 2's copies, which a stop invalidates, §5.4).
    await ctdbngOk(fx, 0, ['writekey', dbName, key, 'before-stop']);
    await ctdbngOk(fx, 2, ['readkey', dbName, key]);
    const client = await fx.client(2, { sharedAccess });
    const db = await client.attach(dbName);
    const rec = await db.fetchLock(key);
    expect(rec.data.toString()).toBe('before-stop');
    expect(rec.via).toBe(sharedAccess ? 'shared' : 'dbd');
    await ctdbngOk(fx, 0, ['-n', '2', 'stop']);
    const err = await rec.store('after-stop', { unlock: true }).then(() => undefined, (e: unknown) => e);
    expect(err instanceof LockLostError || err instanceof StoppedError, String(err)).toBe(true);
    await waitSettled(fx, [0, 1], [0, 1]);
    expect((await catdb(fx, 0, dbName)).get(key)?.data).toBe('before-stop');
    await ctdbngOk(fx, 0, ['-n', '2', 'continue']);
    await waitSettled(fx, [0, 1, 2], [0, 1, 2]);
    for (const p of [0, 1, 2]) expect((await catdb(fx, p, dbName)).get(key)?.data, `node ${p}`).toBe('before-stop');
  });
}
