// Zombie guard (§5.4), banning (§5.3.4), membership (§5.1) and the cluster lock config/protocol.
import { describe, expect, it } from 'vitest';
import { BanCounter } from '../src/core/banning.js';
import { HelperOutput, parseClusterLock } from '../src/core/cluster-lock.js';
import { Membership } from '../src/core/membership.js';
import { copyCounts, countingHolders, highestInstalled, type FreezeReply } from '../src/core/zombie-guard.js';
import { choosePersistentSource, parseSeqnum } from '../src/core/recover-db.js';

describe('zombie guard', () => {
  it('only a valid copy of a generation at least G_max counts; with G_max 0 nothing does', () => {
    expect(copyCounts({ valid: true, generation: 7 }, 7)).toBe(true);
    expect(copyCounts({ valid: true, generation: 8 }, 7)).toBe(true); // pushed by a recovery never installed
    expect(copyCounts({ valid: false, generation: 7 }, 7)).toBe(false);
    expect(copyCounts({ valid: true, generation: 6 }, 7)).toBe(false);
    expect(copyCounts({ valid: true, generation: 0 }, 0)).toBe(false);
  });

  it('G_max is the highest installed generation among the freeze replies, whoever leads', () => {
    const reply = (pnn: number, installed: number, copy: number, valid = true): FreezeReply =>
      ({ pnn, incarnation: pnn, installedGeneration: installed, amnesiac: false, dbs: [{ dbId: 1, generation: copy, valid }] }) as unknown as FreezeReply;
    const replies = [reply(0, 5, 5), reply(1, 9, 9), reply(2, 5, 5)];
    expect(highestInstalled(replies)).toBe(9);
    expect(countingHolders(replies, 1, 9)).toEqual([1]);
    expect(countingHolders([reply(0, 5, 5), reply(1, 5, 6, false), reply(2, 5, 6)], 1, 5)).toEqual([0, 2]);
  });
});

describe('banning', () => {
  it('a node failing RecoveryBanCount recoveries in a row is to be banned; a success resets the count', () => {
    const b = new BanCounter(() => 3, 4);
    expect(b.fail(2)).toBe(false);
    expect(b.fail(2)).toBe(false);
    b.succeed([2]);
    expect(b.fail(2)).toBe(false);
    expect(b.fail(2)).toBe(false);
    expect(b.fail(2)).toBe(true);
    expect(b.count(2)).toBe(0);
  });
});

describe('membership', () => {
  it('a node without a majority for LeaderTimeout turns inactive and is active again as soon as it sees one', () => {
    const m = new Membership(0, [0, 1, 2, 3, 4], () => 1000, 0);
    m.heard(1, 0);
    m.heard(2, 0);
    expect(m.shouldBeActive(500)).toBe(true);
    expect(m.visible(1500)).toEqual([0]);
    expect(m.shouldBeActive(1500)).toBe(true); // majority lost at 1500: not yet for LeaderTimeout
    expect(m.shouldBeActive(2499)).toBe(true);
    expect(m.shouldBeActive(2500)).toBe(false);
    m.heard(3, 2600);
    m.heard(4, 2600);
    expect(m.shouldBeActive(2600)).toBe(true);
  });
});

describe('cluster lock', () => {
  it('config selects a command, a file or etcd', () => {
    expect(parseClusterLock(undefined)).toBeUndefined();
    expect(parseClusterLock('!/usr/bin/helper -x')).toEqual({ kind: 'command', command: '/usr/bin/helper -x' });
    expect(parseClusterLock('/shared/lock')).toEqual({ kind: 'file', path: '/shared/lock' });
    expect(parseClusterLock('etcd://127.0.0.1:2379/ctdbng/lock')).toEqual({ kind: 'etcd', url: 'http://127.0.0.1:2379', key: '/ctdbng/lock' });
    expect(() => parseClusterLock('relative/lock')).toThrow(/absolute/);
  });

  it('helper output "0" means held; more output or an exit means lost; "1" means contended', () => {
    const o = new HelperOutput();
    expect(o.feed('')).toBe('pending');
    expect(o.feed('0\n')).toBe('held');
    expect(o.feed('\n')).toBe('held');
    expect(o.feed('oops')).toBe('lost');
    expect(new HelperOutput().feed('1\n')).toBe('contended');
    const e = new HelperOutput();
    e.feed('0');
    expect(e.exited(0, null)).toBe('lost');
  });
});

describe('persistent source and push batches', () => {
  const seq = (n: bigint, commit: string): Buffer => Buffer.concat([Buffer.from(new BigUint64Array([n]).buffer), Buffer.from(commit, 'hex')]);
  it('the highest seqnum wins; on a tie the commit held by more participants, then the higher commit id', () => {
    expect(choosePersistentSource([parseSeqnum(0, seq(4n, 'aa')), parseSeqnum(1, seq(5n, '01'))])).toBe(1);
    expect(choosePersistentSource([parseSeqnum(0, seq(5n, 'ff')), parseSeqnum(1, seq(5n, '01')), parseSeqnum(2, seq(5n, '01'))])).toBe(1);
    expect(choosePersistentSource([parseSeqnum(0, seq(5n, '01')), parseSeqnum(1, seq(5n, '02'))])).toBe(1);
    expect(choosePersistentSource([parseSeqnum(0, undefined), parseSeqnum(1, undefined)])).toBe(0);
  });
});
