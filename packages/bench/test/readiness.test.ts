// "The cluster is up" is one criterion for both sides; a ctdb-ng node that says OK before its first
// recovery is not ready, a CTDB node that says OK is (CTDB marks it OK only after it).
import { describe, expect, it } from 'vitest';
import { nodesReady, recoveryNormal, vnnmapComplete, type CliProbe } from '@ctdbng/bench';

const vnnmap3 = 'Generation:1195095550\nSize:3\nhash:0 lmaster:0\nhash:1 lmaster:1\nhash:2 lmaster:2\n';

function probe(okImpliesRecovered: boolean, answers: Record<string, { status: number; stdout: string }>): CliProbe & { calls: string[] } {
  const calls: string[] = [];
  return {
    okImpliesRecovered,
    calls,
    call: async (pnn, args) => {
      const k = `${pnn} ${args.join(' ')}`;
      calls.push(k);
      return answers[k] ?? answers[args.join(' ')] ?? { status: 1, stdout: '' };
    },
  };
}

describe('vnnmapComplete', () => {
  it('wants a valid generation and every node', () => {
    expect(vnnmapComplete(vnnmap3, 3)).toBe(true);
    expect(vnnmapComplete(vnnmap3, 4)).toBe(false);
    expect(vnnmapComplete('Generation:INVALID\nSize:3\n', 3)).toBe(false);
    expect(vnnmapComplete('', 3)).toBe(false);
  });
});

describe('nodesReady', () => {
  it('CTDB: nodestatus all on every node is enough', async () => {
    const p = probe(true, { 'nodestatus all': { status: 0, stdout: '' } });
    expect(await nodesReady(p, 3)).toBe(true);
    expect(p.calls).toEqual(['0 nodestatus all', '1 nodestatus all', '2 nodestatus all']);
  });
  it('ctdb-ng: all OK but no generation yet is not ready', async () => {
    const p = probe(false, { 'nodestatus all': { status: 0, stdout: '' }, getvnnmap: { status: 0, stdout: 'Generation:INVALID\nSize:0\n' } });
    expect(await nodesReady(p, 3)).toBe(false);
  });
  it('ctdb-ng: all OK and the full vnnmap on every node is ready', async () => {
    const p = probe(false, { 'nodestatus all': { status: 0, stdout: '' }, getvnnmap: { status: 0, stdout: vnnmap3 } });
    expect(await nodesReady(p, 3)).toBe(true);
  });
  it('a node that is not OK stops the round', async () => {
    const p = probe(true, { '0 nodestatus all': { status: 0, stdout: '' }, '1 nodestatus all': { status: 1, stdout: '' } });
    expect(await nodesReady(p, 3)).toBe(false);
    expect(p.calls).toEqual(['0 nodestatus all', '1 nodestatus all']);
  });
});

describe('recoveryNormal', () => {
  it('reads node 0\'s status', async () => {
    expect(await recoveryNormal(probe(true, { '0 status': { status: 0, stdout: `${vnnmap3}Recovery mode:NORMAL (0)\nLeader:0\n` } }))).toBe(true);
    expect(await recoveryNormal(probe(true, { '0 status': { status: 0, stdout: 'Recovery mode:RECOVERY (1)\n' } }))).toBe(false);
  });
});
