// status with real node flags, nodestatus, recover, stop/continue/ban/unban and uptime against the
// fake client (DESIGN §5, §10): ctdb's output, the documented JSON, and waiting for the change.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runCtdbng } from '../src/cli/run.js';
import { flagNames, nodeBits, nodeFlagBits } from '../src/format/node-flags.js';
import { span, uptimeText } from '../src/format/uptime.js';
import { recoveredGeneration } from '../src/commands/recovery.js';
import { captureIo, fakeClient, type FakeSeed } from './fake-client.js';

const socketArgs = ['--socket', fileURLToPath(import.meta.url)];

async function run(argv: string[], seed: FakeSeed = {}) {
  const client = fakeClient(seed);
  const io = captureIo(client);
  const code = await runCtdbng([...socketArgs, ...argv], io);
  return { code, out: io.out, err: io.err, client };
}

const state = (o: Partial<Parameters<typeof nodeBits>[0] & object> = {}) => ({
  pnn: 0, generation: 1, vnnmap: [0], stopped: false, banned: false, banRemainingSeconds: 0, inactive: false,
  frozen: false, leader: 0, lastRecoveryMs: 0, recoveryStartedUnixMs: 0, witness: false, quorum: true, ...o,
});

describe('node flags', () => {
  test('flags print in ctdb order with INACTIVE after any of DISCONNECTED, BANNED, STOPPED', () => {
    expect(flagNames(nodeBits(state()))).toEqual(['OK']);
    expect(flagNames(nodeBits(undefined))).toEqual(['DISCONNECTED', 'INACTIVE']);
    expect(flagNames(nodeBits(state({ stopped: true })))).toEqual(['STOPPED', 'INACTIVE']);
    expect(flagNames(nodeBits(state({ banned: true, stopped: true })))).toEqual(['BANNED', 'STOPPED', 'INACTIVE']);
    expect(flagNames(nodeBits(state({ inactive: true })))).toEqual(['INACTIVE']);
    expect(flagNames(nodeBits(undefined, true))).toEqual(['DELETED', 'INACTIVE']);
  });

  test('the bits are ctdb values, our lone INACTIVE outside them', () => {
    expect(nodeBits(state({ stopped: true }))).toBe(0x20);
    expect(nodeBits(state({ banned: true }))).toBe(0x8);
    expect(nodeBits(undefined)).toBe(0x1);
    expect(nodeBits(state({ inactive: true }))).toBe(nodeFlagBits.INACTIVE_ALONE);
  });
});

describe('status', () => {
  const seed: FakeSeed = { leader: 1, states: { 1: { stopped: true } }, failingPnns: [2] };

  test('status shows each node flags from its own state, an unanswering node DISCONNECTED', async () => {
    const r = await run(['status'], seed);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'Number of nodes:3',
      'pnn:0 127.0.0.1        OK (THIS NODE)',
      'pnn:1 127.0.0.2        STOPPED|INACTIVE',
      'pnn:2 127.0.0.3        DISCONNECTED|INACTIVE',
      'Generation:77',
      'Size:3',
      'hash:0 lmaster:0',
      'hash:1 lmaster:1',
      'hash:2 lmaster:2',
      'Recovery mode:NORMAL (0)',
      'Leader:1',
      '',
    ].join('\n'));
  });

  test('status --json is exactly the documented shape with flag arrays', async () => {
    const r = await run(['status', '--json'], seed);
    expect(JSON.parse(r.out)).toEqual({
      pnn: 0, generation: 77, leader: 1, vnnmap: [0, 1, 2], quorum: true,
      nodes: [
        { pnn: 0, address: '127.0.0.1', flags: ['OK'] },
        { pnn: 1, address: '127.0.0.2', flags: ['STOPPED', 'INACTIVE'] },
        { pnn: 2, address: '127.0.0.3', flags: ['DISCONNECTED', 'INACTIVE'] },
      ],
    });
  });

  test('a frozen node is in recovery mode and an unknown leader prints UNKNOWN', async () => {
    const r = await run(['status'], { states: { 0: { frozen: true } } });
    expect(r.out).toContain('\nRecovery mode:RECOVERY (1)\nLeader:UNKNOWN\n');
  });

  test('the states of other nodes are asked through the local dbd with their pnn', async () => {
    const r = await run(['status']);
    expect(r.client.calls.filter((c) => c.method === 'getNodeState').map((c) => c.pnn).sort()).toEqual([1, 2, undefined]);
  });
});

describe('nodestatus', () => {
  test('nodestatus without argument shows this node without a header and exits 0 when OK', async () => {
    const r = await run(['nodestatus']);
    expect([r.code, r.out]).toEqual([0, 'pnn:0 127.0.0.1        OK (THIS NODE)\n']);
  });

  test('nodestatus all shows the header and exits with the OR of the flag bits', async () => {
    const r = await run(['nodestatus', 'all'], { states: { 1: { stopped: true } } });
    expect(r.code).toBe(0x20);
    expect(r.out).toBe('Number of nodes:3\npnn:0 127.0.0.1        OK (THIS NODE)\npnn:1 127.0.0.2        STOPPED|INACTIVE\npnn:2 127.0.0.3        OK\n');
    expect(r.err).toBe('');
    expect((await run(['nodestatus', 'all'], { states: { 1: { banned: true } }, failingPnns: [2] })).code).toBe(0x8 | 0x1);
  });

  test('nodestatus PNN --json lists only that node and keeps the exit status', async () => {
    const r = await run(['--json', 'nodestatus', '2'], { failingPnns: [2] });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ pnn: 0, generation: 77, leader: null, vnnmap: [0, 1, 2], quorum: true, nodes: [{ pnn: 2, address: '127.0.0.3', flags: ['DISCONNECTED', 'INACTIVE'] }] });
  });

  test('nodestatus of a bad argument is a usage error, of a missing node a failure', async () => {
    expect((await run(['nodestatus', 'two'])).code).toBe(2);
    const r = await run(['nodestatus', '7']);
    expect([r.code, r.err]).toEqual([1, 'ctdbng: Node 7 does not exist\n']);
  });
});

describe('recover', () => {
  test('recover asks for a recovery and returns once every active node has a new generation and is thawed', async () => {
    const r = await run(['--json', 'recover'], { states: { 2: { stopped: true } } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { generation: number; durationMs: number };
    expect(Object.keys(doc)).toEqual(['generation', 'durationMs']);
    expect(doc.generation).toBe(78);
    expect(r.client.states.get(2)?.generation).toBe(77);
    expect(r.client.calls.filter((c) => c.method === 'requestRecovery')).toHaveLength(1);
  });

  test('recover prints nothing', async () => {
    expect(await run(['recover'])).toMatchObject({ code: 0, out: '', err: '' });
  });

  test('a recovery that does not finish within -T fails with one line', async () => {
    const r = await run(['-T', '0.2', 'recover'], { recoveryAfterCalls: -1 });
    expect(r.code).toBe(1);
    expect(r.err).toBe('ctdbng: timed out after 0.2 s waiting for the recovery to finish on every active node\n');
  });

  test('recover -n all is a usage error', async () => {
    const r = await run(['-n', 'all', 'recover']);
    expect([r.code, r.err]).toEqual([2, 'ctdbng: recover takes -n PNN, not -n all\n']);
    expect(r.client.calls).toEqual([]);
  });

  test('a node that stops answering during the recovery no longer counts; the local one always does', () => {
    const s = (generation: number, frozen = false) => state({ generation, frozen });
    const before = new Map([[0, s(5)], [1, s(5)]]);
    expect(recoveredGeneration(before, new Map([[0, s(6)], [1, undefined]]), 0)).toBe(6);
    expect(recoveredGeneration(before, new Map([[0, undefined], [1, s(6)]]), 0)).toBeUndefined();
    expect(recoveredGeneration(before, new Map([[0, s(6, true)], [1, s(6)]]), 0)).toBeUndefined();
    expect(recoveredGeneration(before, new Map([[0, s(6)], [1, s(5)]]), 0)).toBeUndefined();
  });
});

describe('stop, continue, ban, unban', () => {
  test('stop -n 1 sets the flag on node 1, waits for it and prints nothing', async () => {
    const r = await run(['-n', '1', 'stop']);
    expect([r.code, r.out, r.err]).toEqual([0, '', '']);
    expect(r.client.calls.filter((c) => c.method === 'setNodeFlags')).toEqual([{ method: 'setNodeFlags', pnn: 1 }]);
    expect(r.client.states.get(1)?.stopped).toBe(true);
  });

  test('stop --json gives the node flags after the change', async () => {
    const r = await run(['--json', '-n', '1', 'stop']);
    expect(JSON.parse(r.out)).toEqual({ pnn: 1, flags: ['STOPPED', 'INACTIVE'] });
  });

  test('each command on a node already as asked says so, as ctdb, and changes nothing', async () => {
    expect((await run(['-n', '1', 'stop'], { states: { 1: { stopped: true } } })).out).toBe('Node 1 is already stopped\n');
    expect((await run(['continue'])).out).toBe('Node 0 is not stopped\n');
    expect((await run(['-n', '2', 'ban', '5'], { states: { 2: { banned: true } } })).out).toBe('Node 2 is already banned\n');
    const r = await run(['unban']);
    expect(r.out).toBe('Node 0 is not banned\n');
    expect(r.client.calls.some((c) => c.method === 'setNodeFlags')).toBe(false);
  });

  test('continue and unban clear the flags', async () => {
    const r1 = await run(['--json', '-n', '1', 'continue'], { states: { 1: { stopped: true } } });
    expect(JSON.parse(r1.out)).toEqual({ pnn: 1, flags: ['OK'] });
    const r2 = await run(['--json', 'unban'], { states: { 0: { banned: true } } });
    expect(JSON.parse(r2.out)).toEqual({ pnn: 0, flags: ['OK'] });
  });

  test('ban SECONDS -n 2 bans node 2', async () => {
    const r = await run(['-n', '2', 'ban', '5']);
    expect(r.code).toBe(0);
    expect(r.client.states.get(2)).toMatchObject({ banned: true, banRemainingSeconds: 5 });
  });

  test('ban without a positive whole number of seconds, or stop -n all, is a usage error', async () => {
    for (const argv of [['ban'], ['ban', '0'], ['ban', '1.5'], ['ban', '-3'], ['-n', 'all', 'stop']]) {
      expect((await run(argv)).code).toBe(2);
    }
  });

  test('a flag the node never shows fails after -T with one line', async () => {
    const r = await run(['-T', '0.2', '-n', '1', 'stop'], { flagsIgnored: true });
    expect([r.code, r.err]).toEqual([1, 'ctdbng: timed out after 0.2 s waiting for node 1 to be stopped\n']);
  });
});

describe('uptime', () => {
  test('uptime --json gives pnn, uptime and the duration of the last recovery', async () => {
    const r = await run(['--json', '-n', '2', 'uptime']);
    expect(JSON.parse(r.out)).toEqual({ pnn: 2, uptimeMs: 1000, lastRecoveryDurationMs: 12 });
  });

  test('uptime text is ctdb control_uptime', async () => {
    const r = await run(['uptime']);
    const date = '[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}';
    expect(r.out).toMatch(new RegExp([
      `^Current time of node 0        :                ${date}`,
      `Ctdbd start time              : \\(000 00:00:0[01]\\) ${date}`,
      'Time of last recovery/failover: -',
      'Duration of last recovery/failover: 0.012000 seconds\n$',
    ].join('\n')));
  });

  test('the last recovery time comes from when it started plus its duration', () => {
    const nowUnixMs = Date.UTC(2024, 0, 2, 3, 4, 5);
    const t = uptimeText({ pnn: 1, nowUnixMs, uptimeMs: 90_061_000, lastRecoveryEndUnixMs: nowUnixMs - 61_000, lastRecoveryDurationMs: 1_500 });
    expect(t.split('\n')[1]).toMatch(/^Ctdbd start time {14}: \(001 01:01:01\) /);
    expect(t.split('\n')[2]).toMatch(/^Time of last recovery\/failover: \(000 00:01:01\) /);
    expect(t.split('\n')[3]).toBe('Duration of last recovery/failover: 1.500000 seconds');
    expect(span(3_600_000 * 24 * 12)).toBe('(012 00:00:00)');
  });

  test('an unknown last recovery time or duration is "-", not the start time', () => {
    const t = uptimeText({ pnn: 0, nowUnixMs: Date.UTC(2024, 0, 2), uptimeMs: 5_000, lastRecoveryEndUnixMs: undefined, lastRecoveryDurationMs: 0 });
    expect(t.split('\n').slice(2, 4)).toEqual(['Time of last recovery/failover: -', 'Duration of last recovery/failover: -']);
  });
});
