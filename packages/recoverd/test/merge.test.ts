// The merge rules of DESIGN §5.3.2, tested on the merge of packed pages (merge.ts): the pages as
// every node's PullDbReply carries them, the result as the PushDbBatch pages.
import { describe, expect, it } from 'vitest';
import { packRecords, RecordFlag, unpackRecords, type PackedRecord } from '@ctdbng/protocol';
import { mergePulled, PackedMerge, packUnchanged, replaces, type PulledCopy } from '../src/core/merge.js';

const leader = 0;
interface Copy extends PackedRecord {
  key: Buffer;
  data: Buffer;
  from: number;
}
function copy(from: number, rsn: number, dmaster: number, data = `v${from}`, key = 'k', flags = 0): Copy {
  return { key: Buffer.from(key), rsn, dmaster, flags, data: Buffer.from(data), from };
}

/** The copies as nodes would send them: one source per node in order of first appearance, keys ascending, in pages of `perPage`. */
function pulledOf(copies: readonly Copy[], perPage = 2): PulledCopy[] {
  const byNode = new Map<number, Copy[]>();
  for (const c of copies) byNode.set(c.from, [...(byNode.get(c.from) ?? []), c]);
  return [...byNode].map(([from, cs]) => {
    const sorted = [...cs].sort((a, b) => Buffer.compare(a.key, b.key));
    const pages: Uint8Array[] = [];
    for (let i = 0; i < sorted.length; i += perPage) pages.push(packRecords(sorted.slice(i, i + perPage)));
    return { from, pages, records: sorted.length };
  });
}

function records(pages: readonly Uint8Array[]): PackedRecord[] {
  return pages.flatMap((p) => unpackRecords(p));
}

function mergeCopies(copies: readonly Copy[], perPage = 2): PackedRecord[] {
  return records(mergePulled(pulledOf(copies, perPage), leader).pages);
}

const text = (b: Uint8Array): string => Buffer.from(b).toString();

describe('merge', () => {
  it('the copy with the highest rsn wins whatever the order', () => {
    const a = copy(1, 5, 1);
    const b = copy(2, 7, 2);
    expect(text(mergeCopies([a, b])[0]!.data)).toBe('v2');
    expect(text(mergeCopies([b, a])[0]!.data)).toBe('v2');
  });

  it('on equal rsn the copy pulled from the node its header names as dmaster wins, in either order', () => {
    const stale = copy(1, 4, 2, 'stale'); // node 1's copy names node 2 as dmaster
    const own = copy(2, 4, 2, 'own'); // node 2's copy names itself
    expect(text(mergeCopies([stale, own])[0]!.data)).toBe('own');
    expect(text(mergeCopies([own, stale])[0]!.data)).toBe('own');
  });

  it('on equal rsn with neither copy from its dmaster, the incoming one replaces the kept one only if the kept one names the leader', () => {
    const namesLeader = copy(1, 3, leader, 'a');
    const namesOther = copy(2, 3, 3, 'b');
    expect(replaces(namesLeader, namesOther, leader)).toBe(true);
    expect(replaces(namesOther, namesLeader, leader)).toBe(false);
    expect(text(mergeCopies([namesLeader, namesOther])[0]!.data)).toBe('b');
    expect(text(mergeCopies([namesOther, namesLeader])[0]!.data)).toBe('b');
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
      const out = mergeCopies(order);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ rsn: 6, dmaster: leader, flags: RecordFlag.MIGRATED_WITH_DATA });
      expect(out[0]!.data.length).toBe(0);
    }
    expect(mergePulled(pulledOf([live, tomb]), leader)).toMatchObject({ records: 1, copies: 2, keys: 1 });
  });

  it('an older tombstone loses to newer data', () => {
    const out = mergeCopies([copy(2, 2, 2, ''), copy(1, 5, 1, 'alive')]);
    expect(out.map((r) => text(r.data))).toEqual(['alive']);
  });

  it('results keep their rsn, name the leader as dmaster and carry MIGRATED_WITH_DATA, in key order', () => {
    const out = mergeCopies([copy(1, 9, 1, 'x', 'b', 2), copy(2, 4, 2, 'y', 'a')]);
    expect(out.map((r) => [text(r.key), r.rsn, r.dmaster, r.flags])).toEqual([
      ['a', 4, leader, 1],
      ['b', 9, leader, 3],
    ]);
  });

  it('a merge of nothing pushes nothing', () => {
    expect(mergePulled([], leader)).toEqual({ pages: [], counts: [], records: 0, copies: 0, keys: 0 });
    expect(mergePulled([{ from: 1, pages: [], records: 0 }], leader)).toEqual({ pages: [], counts: [], records: 0, copies: 0, keys: 0 });
  });

  it('random copies on up to 5 nodes, in pages of any size, merge as the rule applied key by key in node order', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`merge model: SEED=${seed}`);
    let state = seed;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    for (let round = 0; round < 50; round++) {
      const nodes = 1 + rand(5);
      const copies: Copy[] = [];
      for (let from = 0; from < nodes; from++) {
        for (let i = 0; i < 40; i++) {
          if (rand(3) === 0) continue;
          const key = Buffer.from([rand(4), ...Array.from({ length: rand(3) }, () => rand(256))]).toString('latin1');
          if (copies.some((c) => c.from === from && c.key.toString('latin1') === key)) continue;
          copies.push({ key: Buffer.from(key, 'latin1'), rsn: rand(4), dmaster: rand(nodes + 1), flags: rand(4), data: Buffer.from(rand(4) === 0 ? '' : `d${from}.${i}`), from });
        }
      }
      // The model: every key's copies in node order, the rule applied one by one (CTDB's recdb_add_traverse).
      const kept = new Map<string, Copy>();
      for (const c of [...copies].sort((a, b) => a.from - b.from)) {
        const k = c.key.toString('latin1');
        const old = kept.get(k);
        if (old === undefined || replaces(old, c, leader)) kept.set(k, c);
      }
      // Every winner is pushed, a tombstone as a tombstone.
      const expected = [...kept.values()]
        .sort((a, b) => Buffer.compare(a.key, b.key))
        .map((c) => ({ key: c.key.toString('hex'), rsn: c.rsn, dmaster: leader, flags: c.flags | 1, data: c.data.toString('hex') }));
      const pulled = pulledOf(copies.sort((a, b) => a.from - b.from), 1 + rand(7));
      const pushRecordsMax = 1 + rand(10);
      const out = mergePulled(pulled, leader, { recordsMax: pushRecordsMax, bytesMax: 1 << 20 });
      expect(out.pages.every((p) => unpackRecords(p).length <= pushRecordsMax)).toBe(true);
      expect(records(out.pages).map((r) => ({ key: Buffer.from(r.key).toString('hex'), rsn: r.rsn, dmaster: r.dmaster, flags: r.flags, data: Buffer.from(r.data).toString('hex') })), `seed ${seed} round ${round}`).toEqual(expected);
      expect(out).toMatchObject({ records: expected.length, copies: copies.length, keys: kept.size });
    }
  });

  it('pages fed one at a time as the pulls go on, in any interleaving of the nodes, merge to what all of them at once give', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`merge interleaving: SEED=${seed}`);
    let state = seed;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    for (let round = 0; round < 30; round++) {
      const nodes = 1 + rand(4);
      const copies: Copy[] = [];
      for (let from = 0; from < nodes; from++) {
        const keys = new Set<number>();
        for (let i = 0; i < 30; i++) keys.add(rand(60));
        for (const k of keys) copies.push(copy(from, rand(3), rand(nodes), rand(5) === 0 ? '' : `d${from}.${k}`, `k${String(k).padStart(2, '0')}`));
      }
      const pulled = pulledOf(copies, 1 + rand(5));
      const merge = new PackedMerge(pulled.map((p) => p.from), leader);
      const next = pulled.map(() => 0);
      for (;;) {
        const open = pulled.map((_, i) => i).filter((i) => next[i]! <= pulled[i]!.pages.length);
        if (open.length === 0) break;
        const i = open[rand(open.length)]!;
        if (next[i]! < pulled[i]!.pages.length) {
          const page = pulled[i]!.pages[next[i]!]!;
          merge.add(i, page, unpackRecords(page).length);
        } else merge.end(i);
        next[i]! += 1;
        merge.advance();
      }
      const all = mergePulled(pulled, leader);
      expect(merge.result(), `seed ${seed} round ${round}`).toEqual(all);
    }
  });

  it('push pages hold recordsMax records and bytesMax bytes at most, and at least one record each', () => {
    const copies = Array.from({ length: 25 }, (_, i) => copy(1, 1, 1, 'x'.repeat(i === 7 ? 500 : 10), `k${String(i).padStart(2, '0')}`));
    const out = mergePulled(pulledOf(copies, 4), leader, { recordsMax: 10, bytesMax: 200 });
    const sizes = out.pages.map((p) => unpackRecords(p).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(out.pages.every((p) => p.length <= 200 || unpackRecords(p).length === 1)).toBe(true);
    expect(out.pages.some((p) => p.length > 200)).toBe(true); // the 500-byte record alone
    expect(records(out.pages).map((r) => text(r.key))).toEqual(copies.map((c) => text(c.key)));
  });
});

describe('packUnchanged', () => {
  it('a persistent copy is pushed as pulled: headers unchanged, tombstones kept, in bounded pages', () => {
    const copies = [copy(2, 5, 1, 'a', 'a', 0), copy(2, 6, 3, '', 'b', 2), copy(2, 7, 2, 'c', 'c', 1)];
    const [source] = pulledOf(copies, 2);
    const out = packUnchanged(source!, { recordsMax: 2, bytesMax: 1 << 20 });
    expect(out.pages.map((p) => unpackRecords(p).length)).toEqual([2, 1]);
    expect(out).toMatchObject({ records: 3, copies: 3, keys: 3 });
    expect(records(out.pages).map((r) => [text(r.key), r.rsn, r.dmaster, r.flags, text(r.data)])).toEqual([
      ['a', 5, 1, 0, 'a'],
      ['b', 6, 3, 2, ''],
      ['c', 7, 2, 1, 'c'],
    ]);
  });
});
