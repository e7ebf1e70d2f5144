// A cluster message reaches the clients registered for its srvid on its destination node exactly
// once, and a broadcast reaches every registered client exactly once (DESIGN §6).
import { expect, test } from 'vitest';
import type { Client } from '@ctdbng/client';
import { useCluster } from '../helpers/cluster.js';

const fx = useCluster('srvid', { portBase: 11_700 });
const srvid = 0x5eed_0001;
const otherSrvid = 0x5eed_0002;

interface Listener { name: string; got: string[] }

async function listen(client: Client, name: string, id: number): Promise<Listener> {
  const l: Listener = { name, got: [] };
  await client.registerSrvid(id, (m) => l.got.push(`${m.data.toString()}@${m.srcPnn}`));
  return l;
}

test('A message sent to srvid S on node 2 from a client on node 0 arrives once; broadcast reaches every registered client', async () => {
  const clients = await Promise.all([0, 1, 2, 2, 1].map((p) => fx.client(p)));
  const [on0, on1, on2a, on2b] = await Promise.all([
    listen(clients[0]!, 'node0', srvid),
    listen(clients[1]!, 'node1', srvid),
    listen(clients[2]!, 'node2a', srvid),
    listen(clients[3]!, 'node2b', srvid),
  ]);
  const bystander = await listen(clients[4]!, 'node1-other-srvid', otherSrvid);
  const registered = [on0!, on1!, on2a!, on2b!];
  const sender = clients[0]!;

  /** A broadcast marker: once every listener has it, anything sent before it has arrived. */
  const marker = async (name: string): Promise<void> => {
    await sender.sendMessage('all', srvid, name);
    await expect.poll(() => registered.filter((l) => l.got.includes(`${name}@0`)).length, { timeout: 10_000 }).toBe(registered.length);
  };

  await sender.sendMessage(2, srvid, 'to-node-2');
  await marker('marker-1');
  expect(on0!.got).toEqual(['marker-1@0']);
  expect(on1!.got).toEqual(['marker-1@0']);
  expect(on2a!.got).toEqual(['to-node-2@0', 'marker-1@0']);
  expect(on2b!.got).toEqual(['to-node-2@0', 'marker-1@0']);

  for (const l of registered) l.got.length = 0;
  await sender.sendMessage('all', srvid, 'to-all');
  await marker('marker-2');
  for (const l of registered) expect(l.got, l.name).toEqual(['to-all@0', 'marker-2@0']);
  expect(bystander.got).toEqual([]);
});
