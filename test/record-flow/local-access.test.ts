// Once a node is dmaster of a record, fetch_lock/store on it cost no inter-node message, and with
// shared access not even a message to dbd (DESIGN §2.1.2, §2.2).
import { expect, test } from 'vitest';
import type { Client } from '@ctdbng/client';
import { keyWithLmaster, useCluster } from '../helpers/cluster.js';

// A longer shared-access lease (probes every 1.25 s) so that a slow probe round on a busy CI
// machine cannot send a shared-access operation back to dbd in the middle of the count.
const fx = useCluster('local-access', { portBase: 11_100, tunables: { SharedAccessLease: 5_000 } });
const dbName = 'local.tdb';
const ops = 1_000;

async function counter(stats: Client, pnn: number, name: string): Promise<number> {
  const v = (await stats.statistics({ pnn })).counters[name];
  if (v === undefined) throw new Error(`node ${pnn} has no counter ${name}`);
  return v;
}

async function recordMessages(stats: Client): Promise<number[]> {
  return Promise.all([0, 1, 2].map((p) => counter(stats, p, 'node_record_messages_sent')));
}

test('Local access: 1,000 fetch_lock/store on the dmaster send no inter-node record message, and with shared access no message to dbd', async () => {
  const stats = await fx.client(0);
  const { pnns } = await stats.getVnnMap();
  const key = keyWithLmaster('local', 1, pnns);
  const zmq = await fx.client(0);
  const db = await zmq.attach(dbName);
  // Make node 0 dmaster: the record is created on node 1 and migrated here.
  await db.withLock(key, (rec) => rec.store('0'));
  expect((await db.fetch(key)).header?.dmaster).toBe(0);

  // 1,000 operations through dbd (ZeroMQ path): served locally, no record message anywhere.
  const messagesBefore = await recordMessages(stats);
  const localBefore = await counter(stats, 0, 'fetch_lock_local');
  for (let i = 1; i <= ops; i++) {
    const rec = await db.fetchLock(key);
    expect(rec.via).toBe('dbd');
    await rec.store(String(i), { unlock: true });
  }
  expect(await recordMessages(stats)).toEqual(messagesBefore);
  expect(await counter(stats, 0, 'fetch_lock_local') - localBefore).toBe(ops);

  // 1,000 more with shared access: not one record request reaches dbd. (client_requests also
  // counts this node's recoverd and vacuumd polling dbd, so the record-operation counter is the
  // one that proves it.)
  const shared = await fx.client(0, { sharedAccess: true });
  const sdb = await shared.attach(dbName);
  const requestsBefore = await counter(stats, 0, 'record_requests');
  for (let i = 1; i <= ops; i++) {
    const rec = await sdb.fetchLock(key);
    expect(rec.via).toBe('shared');
    await rec.store(String(ops + i), { unlock: true });
  }
  expect(await counter(stats, 0, 'record_requests')).toBe(requestsBefore);
  expect(await recordMessages(stats)).toEqual(messagesBefore);
  expect((await db.fetch(key)).data.toString()).toBe(String(2 * ops));
});
