// The merge rules of DESIGN §5.3.2, tested directly on the merge function.
import { describe, expect, it } from 'vitest';
import { mergeCopies, replaces, type Copy } from '../src/core/merge.js';

const leader = 0;
function copy(from: number, rsn: number, dmaster: number, data = `v${from}`, key = 'k', flags = 0): Copy {
  return { key: Buffer.from(key), rsn, dmaster, flags, data: Buffer.from(data), from };
}

describe('merge', () => {
  it('the copy with the highest rsn wins whatever the order', () => {
    const a = copy(1, 5, 1);
    const b = copy(2, 7, 2);
    expect(mergeCopies([a, b], leader)[0]!.data.toString()).toBe('v2');
    expect(mergeCopies([b, a], leader)[0]!.data.toString()).toBe('v2');
  });

  it('on equal rsn the copy pulled from the node its header names as dmaster wins, in either order', () => {
    const stale = copy(1, 4, 2, 'stale'); // node 1's copy names node 2 as dmaster
    const own = copy(2, 4, 2, 'own'); // node 2's copy names itself
    expect(mergeCopies([stale, own], leader)[0]!.data.toString()).toBe('own');
    expect(mergeCopies([own, stale], leader)[0]!.data.toString()).toBe('own');
  });

  it('on equal rsn with neither copy from its dmaster, the incoming one replaces the kept one only if the kept one names the leader', () => {
    const namesLeader = copy(1, 3, leader, 'a');
    const namesOther = copy(2, 3, 3, 'b');
    expect(replaces(namesLeader, namesOther, leader)).toBe(true);
    expect(replaces(namesOther, namesLeader, leader)).toBe(false);
    expect(mergeCopies([namesLeader, namesOther], leader)[0]!.data.toString()).toBe('b');
    expect(mergeCopies([namesOther, namesLeader], leader)[0]!.data.toString()).toBe('b');
  });

  it('on equal rsn with both copies from their dmaster, CTDB rule decides', () => {
    const a = copy(1, 3, 1, 'a');
    const b = copy(2, 3, 2, 'b');
    expect(replaces(a, b, leader)).toBe(false); // kept one does not name the leader: kept
    const fromLeader = copy(leader, 3, leader, 'l');
    expect(replaces(fromLeader, b, leader)).toBe(true);
  });

  it('a tombstone with the highest rsn wins and is pushed as a tombstone: the key stays deleted, also against older copies a later merge may see', () => {
    const live = copy(1, 5, 1, 'alive');
    const tomb = copy(2, 6, 2, '');
    for (const order of [[live, tomb], [tomb, live]]) {
      const out = mergeCopies(order, leader);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ rsn: 6, dmaster: leader });
      expect(out[0]!.data.length).toBe(0);
    }
  });

  it('an older tombstone loses to newer data', () => {
    const out = mergeCopies([copy(2, 2, 2, ''), copy(1, 5, 1, 'alive')], leader);
    expect(out.map((r) => r.data.toString())).toEqual(['alive']);
  });

  it('results keep their rsn, name the leader as dmaster and carry MIGRATED_WITH_DATA, in key order', () => {
    const out = mergeCopies([copy(1, 9, 1, 'x', 'b', 2), copy(2, 4, 2, 'y', 'a')], leader);
    expect(out.map((r) => [r.key.toString(), r.rsn, r.dmaster, r.flags])).toEqual([
      ['a', 4, leader, 1],
      ['b', 9, leader, 3],
    ]);
  });
});
