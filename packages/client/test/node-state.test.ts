// Node controls of the recovery daemon's era: getNodeState, setNodeFlags, requestRecovery (DESIGN §5, §10).
import { afterEach, describe, expect, test } from 'vitest';
import { ErrorCode } from '@ctdbng/protocol';
import { connect, NodeUnreachableError, type Client } from '../src/index.js';
import { FakeDbd } from './fake-dbd.js';

let fake: FakeDbd | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function setup(): Promise<{ fake: FakeDbd; client: Client }> {
  fake = await FakeDbd.start({ pnn: 1 });
  client = await connect({ socket: fake.socket, timeoutMs: 2_000 });
  return { fake, client };
}

const wireState = {
  pnn: 2, incarnation: 5, generation: 1234, vnnmap: [0, 1, 2], stopped: true, banned: false, banRemainingSeconds: 0,
  inactive: false, frozen: true, linksUp: [0, 1], recoveryRequests: 3, dbIds: [7], dbNames: ['x.db'], highestTerm: 4,
  leader: 0, hasLeader: true, lastRecoveryMs: 12, recoveryStartedUnixMs: 1_700_000_000_000, witness: true, amnesiac: false, quorum: true, joined: true,
};

describe('getNodeState', () => {
  test('getNodeState of another node is sent with target_pnn and decoded field by field', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ nodeState: wireState });
    const s = await client.getNodeState({ pnn: 2 });
    expect(fake.requests('getNodeState')[0]?.targetPnn).toBe(2);
    expect(s).toEqual({
      pnn: 2, incarnation: 5, generation: 1234, vnnmap: [0, 1, 2], stopped: true, banned: false, banRemainingSeconds: 0,
      inactive: false, frozen: true, linksUp: [0, 1], recoveryRequests: 3, dbIds: [7], dbNames: ['x.db'], highestTerm: 4,
      leader: 0, lastRecoveryMs: 12, recoveryStartedUnixMs: 1_700_000_000_000, witness: true, amnesiac: false, quorum: true, joined: true,
    });
  });

  test('a node state without has_leader reports leader null, even when leader is 0 on the wire', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ nodeState: { pnn: 1, leader: 0, hasLeader: false } });
    const s = await client.getNodeState();
    expect(s.leader).toBeNull();
    expect(s.generation).toBe(0);
    expect(s.vnnmap).toEqual([]);
  });

  test('an unreachable node fails with NodeUnreachableError', async () => {
    const { fake, client } = await setup();
    fake.handler = () => ({ error: { code: ErrorCode.ERR_NODE_UNREACHABLE, message: 'node 2 is not connected' } });
    await expect(client.getNodeState({ pnn: 2 })).rejects.toBeInstanceOf(NodeUnreachableError);
  });
});

describe('setNodeFlags', () => {
  test('each flag change becomes the one SetNodeFlags field it names', async () => {
    const { fake, client } = await setup();
    await client.setNodeFlags({ stop: true });
    await client.setNodeFlags({ cont: true }, { pnn: 0 });
    await client.setNodeFlags({ banSeconds: 30 });
    await client.setNodeFlags({ unban: true });
    const sent = fake.requests('setNodeFlags');
    expect(sent.map((e) => [e.setNodeFlags?.stop, e.setNodeFlags?.cont, e.setNodeFlags?.banSeconds, e.setNodeFlags?.unban]))
      .toEqual([[true, false, 0, false], [false, true, 0, false], [false, false, 30, false], [false, false, 0, true]]);
    expect(sent.map((e) => e.targetPnn ?? null)).toEqual([null, 0, null, null]);
  });

  test('a ban of zero, a fraction or more than uint32 seconds is refused before sending', async () => {
    const { fake, client } = await setup();
    for (const banSeconds of [0, 1.5, -3, 2 ** 32]) await expect(client.setNodeFlags({ banSeconds })).rejects.toBeInstanceOf(RangeError);
    expect(fake.requests('setNodeFlags')).toHaveLength(0);
  });
});

describe('requestRecovery', () => {
  test('requestRecovery sends the reason and resolves on Ok', async () => {
    const { fake, client } = await setup();
    await client.requestRecovery('asked by ctdbng recover', { pnn: 2 });
    const sent = fake.requests('requestRecovery')[0];
    expect(sent?.requestRecovery?.reason).toBe('asked by ctdbng recover');
    expect(sent?.targetPnn).toBe(2);
  });
});
