// Scenarios of dbd's side of recovery (DESIGN §5.3, §2.2, §2.1.9) on three dbd cores wired in
// memory; the test plays the leader's recoverd and sends the recovery controls itself.
import { describe, expect, onTestFinished, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags } from '@ctdbng/store';
import { Cluster, keyWithLmaster, startCluster } from './harness.js';
import { batch, ctl, freeze, install, merge, pageRecords, pullAll, push, recover, type FreezeReply, type WireRecord } from './recovery-driver.js';

const vnnmap = [0, 1, 2];
const lm = (key: Buffer): number => lmasterOf(key, vnnmap);
const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString();

function lockHeld(c: Cluster, pnn: number, clientId: string, key: Buffer): number {
  const fl = c.fetchLock(pnn, clientId, key);
  c.runUntilIdle();
  return Number(fl.body('fetchLockReply').token);
}

function nodeState(c: Cluster, pnn: number) {
  return ctl(c, pnn, { getNodeState: {} }).body('nodeState');
}

function keysOf(c: Cluster, pnn: number): string[] {
  return c.cores[pnn]!.ctx.dbs.get(c.dbId)!.file.records.pageAll(undefined, 1000).map((r) => text(r.key));
}

function rec(key: string, rsn: number, dmaster: number, data: string): WireRecord {
  return { key: Buffer.from(key), header: { rsn, dmaster, flags: 0 }, data: Buffer.from(data) };
}

describe('freeze', () => {
  test('a freeze drops the lease at once; a holder\'s store then fails with ERR_LOCK_LOST and lets the lock go, and the freeze answers', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    c.write(0, 'w', key, Buffer.from('before'));
    const token = lockHeld(c, 0, 'holder', key);
    const G2 = c.nextGeneration();
    const fz = c.request(0, 'recoverd', { freeze: { term: 1, generation: G2 } });
    c.runUntilIdle();
    c.advance(1000);
    expect(fz.done).toBe(false);
    expect(nodeState(c, 0)).toMatchObject({ frozen: true, frozenFor: G2 });
    const meta = c.cores[0]!.ctx.dbs.get(c.dbId)!.file.meta.get();
    expect(meta).toMatchObject({ frozen: 1, lease_until_ns: 0 });

    // No store is accepted without a lease, also from a lock holder during the drain (§2.2).
    const st = c.store(0, 'holder', key, token, Buffer.from('too late'), false);
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_LOCK_LOST');
    c.advance(10);
    const reply = fz.body('freezeReply');
    expect(reply).toMatchObject({ pnn: 0, incarnation: c.cores[0]!.ctx.incarnation, installedGeneration: c.generation, amnesiac: false });
    expect(reply.dbs).toEqual([{ dbId: c.dbId, generation: c.generation, valid: true }]);
    expect(c.stat('locks_broken', 0)).toBe(0);
    expect(c.record(0, key)!.data.toString()).toBe('before');
    expect(c.events[0]!).toContainEqual({ freeze: { generation: G2, frozen: true } });
  });

  test('a holder that only reads and unlocks lets the freeze answer at once', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    const token = lockHeld(c, 0, 'reader', key);
    const fz = c.request(0, 'recoverd', { freeze: { term: 1, generation: c.nextGeneration() } });
    c.runUntilIdle();
    expect(fz.done).toBe(false);
    c.call(0, 'reader', { unlock: { dbId: c.dbId, key, token } }).body('ok');
    c.advance(10);
    fz.body('freezeReply');
    expect(c.stat('locks_broken', 0)).toBe(0);
  });

  test('a freeze breaks locks still held after RecoveryDrainTimeout and their holders get ERR_LOCK_LOST', () => {
    const c = startCluster();
    const drainMs = c.tunables.recoveryDrainTimeoutMs;
    const keys = [keyWithLmaster(lm, 1, 'a'), keyWithLmaster(lm, 1, 'b')];
    const tokens = keys.map((k, i) => lockHeld(c, 1, `holder${i}`, k));
    const fz = c.request(1, 'recoverd', { freeze: { term: 1, generation: c.nextGeneration() } });
    c.runUntilIdle();
    c.advance(drainMs - 10);
    expect(fz.done).toBe(false);
    c.advance(20);
    fz.body('freezeReply');
    expect(c.stat('locks_broken', 1)).toBe(2);
    expect(c.cores[1]!.ctx.dbs.get(c.dbId)!.file.locks.all()).toEqual([]);
    expect(c.call(1, 'holder0', { unlock: { dbId: c.dbId, key: keys[0]!, token: tokens[0]! } }).errorCode).toBe('ERR_LOCK_LOST');
    expect(c.call(1, 'holder1', { renewLock: { dbId: c.dbId, key: keys[1]!, token: tokens[1]! } }).errorCode).toBe('ERR_LOCK_LOST');
    const st = c.store(1, 'holder1', keys[1]!, tokens[1]!, Buffer.from('too late'));
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_LOCK_LOST');
    expect(c.record(1, keys[1]!)!.data.length).toBe(0);
  });

  test('while frozen, fetch_lock waits, and completes after thaw', () => {
    const c = startCluster();
    const local = keyWithLmaster(lm, 1, 'l');
    const remote = keyWithLmaster(lm, 2, 'r');
    c.write(1, 'w', local, Buffer.from('L'));
    c.write(0, 'w', remote, Buffer.from('R'));
    const G2 = c.nextGeneration();
    const replies = freeze(c, [0, 1, 2], G2).map((p) => p.body('freezeReply'));
    const waiting = [c.fetchLock(1, 'x', local), c.fetchLock(1, 'y', remote), c.request(1, 'z', { fetch: { dbId: c.dbId, key: remote } })];
    c.runUntilIdle();
    c.advance(2000);
    expect(waiting.map((p) => p.done)).toEqual([false, false, false]);
    expect(c.stat('calls_started', 1)).toBe(0);
    install(c, { generation: G2, members: vnnmap, replies, leader: 0 });
    for (const pnn of [0, 1, 2]) ctl(c, pnn, { thaw: { term: 1, generation: G2 } }).body('ok');
    c.advance(1000);
    expect(text(waiting[0]!.body('fetchLockReply').data)).toBe('L');
    expect(text(waiting[1]!.body('fetchLockReply').data)).toBe('R');
    // y holds the lock of `remote` on node 1 now; its release lets the fetch through.
    c.call(1, 'y', { unlock: { dbId: c.dbId, key: remote, token: Number(waiting[1]!.body('fetchLockReply').token) } }).body('ok');
    c.runUntilIdle();
    expect(text(waiting[2]!.body('fetchReply').data)).toBe('R');
    expect(c.events[1]!).toContainEqual({ freeze: { generation: G2, frozen: false } });
  });

  test('after a freeze for generation G, record messages of the old generation are dropped and those of G are deferred until the thaw', () => {
    const c = startCluster();
    const G1 = c.generation;
    const G2 = c.nextGeneration();
    const mine = keyWithLmaster(lm, 1, 'm');
    c.write(1, 'w', mine, Buffer.from('on1'));
    const reply = freeze(c, [1], G2)[0]!.body('freezeReply');
    const wrong = c.stat('wrong_generation', 1);
    const served = c.stat('calls_served_remote', 1);
    const oldKey = Buffer.from('old-gen');
    const newKey = Buffer.from('new-gen');
    // Old generation: a call for a record node 1 masters and a hand-over to node 1.
    c.sendAs(2, 1, { callRequest: { dbId: c.dbId, key: mine, origin: 2, hopcount: 0, callId: 900 } }, G1);
    c.sendAs(0, 1, { dmasterReply: { dbId: c.dbId, key: oldKey, header: { rsn: 5, dmaster: 1, flags: 0 }, data: Buffer.from('old'), callId: 901 } }, G1);
    // The new generation: the same kinds, deferred.
    c.sendAs(2, 1, { callRequest: { dbId: c.dbId, key: mine, origin: 2, hopcount: 0, callId: 902 } }, G2);
    c.sendAs(0, 1, { dmasterReply: { dbId: c.dbId, key: newKey, header: { rsn: 7, dmaster: 1, flags: 0 }, data: Buffer.from('new'), callId: 903 } }, G2);
    c.runUntilIdle();
    c.advance(500);
    expect(c.stat('wrong_generation', 1)).toBe(wrong + 2);
    expect(c.record(1, oldKey)).toBeUndefined();
    expect(c.record(1, newKey)).toBeUndefined();
    expect(c.stat('calls_served_remote', 1)).toBe(served);
    expect(c.record(1, mine)).toMatchObject({ dmaster: 1 });

    // Node 1 alone installs G2, whose participants are all three nodes (their incarnations unchanged).
    const others = [0, 2].map((pnn) => ({ ...reply, pnn, incarnation: c.cores[pnn]!.ctx.incarnation }));
    ctl(c, 1, { installGeneration: { term: 1, generation: G2, pnns: vnnmap, participants: [reply, ...others].map((r) => ({ pnn: r.pnn, incarnation: r.incarnation })), leader: 1 } }).body('ok');
    ctl(c, 1, { thaw: { term: 1, generation: G2 } }).body('ok');
    c.runUntilIdle();
    // The deferred ones ran at the thaw: the hand-over landed, the call was taken (it waits for
    // node 1's lease in G2, which its peers, still in G1, do not grant).
    expect(c.record(1, newKey)).toMatchObject({ rsn: 8, dmaster: 1, data: Buffer.from('new') });
    expect(c.record(1, oldKey)).toBeUndefined();
    expect(c.stat('wrong_generation', 1)).toBe(wrong + 2);
    const ks = c.cores[1]!.ctx.dbs.get(c.dbId)!.keys.get(mine.toString('latin1'));
    expect(ks?.waiters.map((w) => (w.kind === 'call' ? w.call.callId : -1))).toEqual([902]);
  });

  test('a frozen node does not ack lease probes, so the old generation\'s leases run out', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    c.write(0, 'w', key, Buffer.from('v'));
    const meta0 = (): number => c.cores[0]!.ctx.dbs.get(c.dbId)!.file.meta.get().lease_until_ns;
    expect(c.cores[0]!.ctx.leaseValid()).toBe(true);
    expect(meta0()).toBeGreaterThan(c.now);
    for (const p of freeze(c, [1, 2], c.nextGeneration())) p.body('freezeReply');
    c.advance(c.tunables.sharedAccessLeaseMs + 10);
    // Node 0 is not frozen, but it cannot renew: neither peer acks its probes.
    expect(c.cores[0]!.ctx.leaseValid()).toBe(false);
    expect(meta0()).toBeLessThanOrEqual(c.now);
    const fl = c.fetchLock(0, 'late', key);
    c.runUntilIdle();
    c.advance(1000);
    expect(fl.done).toBe(false);
    expect(c.stat('fetch_lock_local', 0)).toBe(1);
  });
});

describe('pull and push', () => {
  test('pull returns every record with headers, including stale copies and tombstones, in pages, with the copy\'s validity and generation', () => {
    const c = startCluster();
    const a = keyWithLmaster(lm, 0, 'a');
    const b = keyWithLmaster(lm, 1, 'b');
    const d = keyWithLmaster(lm, 0, 'd');
    c.write(0, 'w', a, Buffer.from('a0'));
    c.write(2, 'w', a, Buffer.from('a2')); // node 0 keeps a stale copy
    c.write(0, 'w', b, Buffer.from('b0'));
    c.write(0, 'w', d, Buffer.from('d0'));
    c.write(0, 'w', d, undefined); // tombstone
    for (let i = 0; i < 5; i++) c.write(0, 'w', Buffer.from(`e${i}`), Buffer.from(`e${i}`));
    // Not frozen: nothing is pulled.
    expect(ctl(c, 0, { pullDb: { term: 1, generation: c.generation, dbId: c.dbId } }).errorCode).toBe('ERR_WRONG_GENERATION');
    const G2 = c.nextGeneration();
    freeze(c, [0], G2)[0]!.body('freezeReply');
    const pulled = pullAll(c, 0, G2, 3);
    const stored = c.cores[0]!.ctx.dbs.get(c.dbId)!.file.records.pageAll(undefined, 1000);
    expect(stored.length).toBeGreaterThanOrEqual(8);
    expect(pulled.pages).toBe(Math.ceil(stored.length / 3) + (stored.length % 3 === 0 ? 1 : 0));
    expect(pulled.valid).toBe(true);
    expect(pulled.generation).toBe(c.generation);
    expect(pulled.records.map((r) => ({ key: text(r.key), rsn: Number(r.header!.rsn), dmaster: r.header!.dmaster, flags: r.header!.flags ?? 0, data: text(r.data) }))).toEqual(
      stored.map((r) => ({ key: text(r.key), rsn: r.rsn, dmaster: r.dmaster, flags: r.flags, data: text(r.data) })),
    );
    const byKey = new Map(pulled.records.map((r) => [text(r.key), r]));
    expect(byKey.get(a.toString())!.header).toMatchObject({ dmaster: 2 });
    expect(text(byKey.get(a.toString())!.data)).toBe('a0');
    expect(byKey.get(d.toString())!.data!.length).toBe(0);
    expect(byKey.get(d.toString())!.header).toMatchObject({ dmaster: 0 });
    // A page never ends early: done only on the last one.
    const first = ctl(c, 0, { pullDb: { term: 1, generation: G2, dbId: c.dbId, recordsMax: 3 } }).body('pullDbReply');
    expect(pageRecords(first)).toHaveLength(3);
    expect(first.recordCount).toBe(3);
    expect(Buffer.from(first.lastKey).equals(Buffer.from(pageRecords(first)[2]!.key!))).toBe(true);
    expect(first.done).toBe(false);
    expect(ctl(c, 0, { pullDb: { term: 1, generation: G2, dbId: 0xdead } }).errorCode).toBe('ERR_UNKNOWN_DB');
    expect(ctl(c, 0, { pullDb: { term: 1, generation: G2 + 1, dbId: c.dbId } }).errorCode).toBe('ERR_WRONG_GENERATION');
  });

  test('a push replaces the db atomically: wipe, batches and commit in one transaction; an interrupted push (a new freeze or a second PushDbStart) leaves the old contents', () => {
    const c = startCluster();
    for (const k of ['o1', 'o2', 'o3']) c.write(1, 'w', Buffer.from(k), Buffer.from(`old-${k}`));
    const before = c.cores[1]!.ctx.dbs.get(c.dbId)!.file.records.pageAll(undefined, 100);
    const file = c.cores[1]!.ctx.dbs.get(c.dbId)!.file;
    const name = file.identity.name;
    const G2 = c.nextGeneration();
    const G3 = c.nextGeneration();
    freeze(c, [1], G2)[0]!.body('freezeReply');

    // Interrupted by a new freeze.
    ctl(c, 1, { pushDbStart: { term: 1, pushId: 10, dbId: c.dbId, name, generation: G2, member: true } }).body('ok');
    ctl(c, 1, batch(1, 10, [rec('n1', 4, 0, 'new')])).body('ok');
    expect(file.pushOpen).toBe(true);
    freeze(c, [1], G3)[0]!.body('freezeReply');
    expect(file.pushOpen).toBe(false);
    expect(file.records.pageAll(undefined, 100)).toEqual(before);
    expect(ctl(c, 1, { pushDbCommit: { term: 1, pushId: 10, generation: G3 } }).errorCode).toBe('ERR_NOT_FOUND');
    // A push for the superseded generation is refused.
    expect(ctl(c, 1, { pushDbStart: { term: 1, pushId: 13, dbId: c.dbId, name, generation: G2, member: true } }).errorCode).toBe('ERR_WRONG_GENERATION');

    // Interrupted by a second PushDbStart, which is then interrupted in turn.
    ctl(c, 1, { pushDbStart: { term: 1, pushId: 11, dbId: c.dbId, name, generation: G3, member: true } }).body('ok');
    ctl(c, 1, batch(1, 11, [rec('n1', 4, 0, 'new')])).body('ok');
    ctl(c, 1, { pushDbStart: { term: 1, pushId: 12, dbId: c.dbId, name, generation: G3, member: true } }).body('ok');
    expect(ctl(c, 1, batch(1, 11, [rec('n2', 4, 0, 'new')])).errorCode).toBe('ERR_NOT_FOUND');
    expect(ctl(c, 1, { pushDbCommit: { term: 1, pushId: 11, generation: G3 } }).errorCode).toBe('ERR_NOT_FOUND');
    ctl(c, 1, batch(1, 12, [rec('n3', 4, 0, 'new')])).body('ok');
    c.term = 2;
    const G4 = c.nextGeneration();
    freeze(c, [1], G4, 2)[0]!.body('freezeReply');
    expect(file.records.pageAll(undefined, 100)).toEqual(before);
    expect(file.meta.get()).toMatchObject({ generation: c.generation, valid: 1 });

    // A whole push: only the pushed records remain, with the generation of the commit.
    push(c, 1, [rec('n1', 4, 0, 'one'), rec('n2', 9, 0, 'two'), rec('n3', 1, 0, 'three'), rec('n4', 2, 0, 'four')], { generation: G4, term: 2, batchSize: 2 });
    expect(keysOf(c, 1)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(c.record(1, Buffer.from('n2'))).toMatchObject({ rsn: 9, dmaster: 0, data: Buffer.from('two') });
    expect(file.meta.get()).toMatchObject({ generation: G4, valid: 1 });
    expect(file.locks.all()).toEqual([]);
  });

  test('a PushDbBatch whose packed page is malformed or disagrees with its record count is refused with ERR_BAD_MESSAGE and writes nothing', () => {
    const c = startCluster();
    const file = c.cores[1]!.ctx.dbs.get(c.dbId)!.file;
    const name = file.identity.name;
    const G2 = c.nextGeneration();
    freeze(c, [1], G2)[0]!.body('freezeReply');
    ctl(c, 1, { pushDbStart: { term: 1, pushId: 20, dbId: c.dbId, name, generation: G2, member: true } }).body('ok');
    const good = batch(1, 20, [rec('n1', 4, 0, 'new'), rec('n2', 5, 0, 'two')]).pushDbBatch!;
    const cut = { ...good, packedRecords: good.packedRecords!.subarray(0, good.packedRecords!.length - 1) };
    const miscounted = { ...good, recordCount: 3 };
    for (const body of [cut, miscounted]) {
      const r = ctl(c, 1, { pushDbBatch: body });
      expect(r.errorCode).toBe('ERR_BAD_MESSAGE');
    }
    ctl(c, 1, { pushDbBatch: good }).body('ok');
    ctl(c, 1, { pushDbCommit: { term: 1, pushId: 20, generation: G2 } }).body('ok');
    expect(keysOf(c, 1)).toEqual(['n1', 'n2']);
  });

  test('the leader\'s copies get rsn + 1 when it installs the generation, never at the push', () => {
    const c = startCluster();
    const G2 = c.nextGeneration();
    const replies = freeze(c, [0, 1, 2], G2).map((p) => p.body('freezeReply'));
    const records = [rec('x', 7, 0, 'X'), rec('y', 1, 0, 'Y')];
    for (const pnn of vnnmap) push(c, pnn, records, { generation: G2 });
    // Pushed, not installed: the leader's copies are not newer than the others'.
    expect(c.record(0, Buffer.from('x'))).toMatchObject({ rsn: 7, dmaster: 0 });
    install(c, { generation: G2, members: vnnmap, replies, leader: 0 });
    expect(c.record(0, Buffer.from('x'))).toMatchObject({ rsn: 8, dmaster: 0 });
    expect(c.record(0, Buffer.from('y'))).toMatchObject({ rsn: 2, dmaster: 0 });
    expect(c.record(1, Buffer.from('x'))).toMatchObject({ rsn: 7, dmaster: 0 });
    expect(c.record(2, Buffer.from('y'))).toMatchObject({ rsn: 1, dmaster: 0 });
  });

  test('a witness is pushed an empty, invalid copy and installs the generation outside the vnnmap', () => {
    const c = startCluster();
    c.write(2, 'w', keyWithLmaster(lm, 2), Buffer.from('v'));
    recover(c, 0, vnnmap, { witnesses: [2] });
    expect(keysOf(c, 2)).toEqual([]);
    expect(c.cores[2]!.ctx.dbs.get(c.dbId)!.file.meta.get()).toMatchObject({ generation: c.generation, valid: 0 });
    expect(nodeState(c, 2)).toMatchObject({ generation: c.generation, vnnmap: [0, 1] });
    const name = c.cores[2]!.ctx.dbs.get(c.dbId)!.info.name;
    const G = c.nextGeneration();
    freeze(c, [2], G)[0]!.body('freezeReply');
    ctl(c, 2, { pushDbStart: { term: 1, pushId: 77, dbId: c.dbId, name, generation: G, member: false } }).body('ok');
    expect(ctl(c, 2, batch(1, 77, [rec('z', 1, 0, 'Z')])).errorCode).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('a whole recovery', () => {
  test('install generation sets vnnmap, generation and valid on every db; thaw restarts the calls that were in flight', () => {
    const c = startCluster();
    const G1 = c.generation;
    const leader = 0;
    const expected = new Map<string, string | undefined>();
    const write = (pnn: number, k: string, v: string | undefined): void => {
      c.write(pnn, 'w', Buffer.from(k), v === undefined ? undefined : Buffer.from(v));
      expected.set(k, v);
    };
    for (let i = 0; i < 12; i++) write(i % 3, `k${i}`, `v${i}@${i % 3}`);
    write(1, 'k0', 'v0@1'); // migrated: stale copies of k0 stay on node 0
    write(2, 'k0', 'v0@2');
    write(2, 'k4', undefined); // tombstones
    write(0, 'k5', undefined);
    // A client holds the lock of k7 on its dmaster (node 1); another on node 2 waits for it.
    const held = Buffer.from('k7');
    const token = lockHeld(c, 1, 'holder', held);
    const waiter = c.fetchLock(2, 'waiter', held);
    c.runUntilIdle();
    expect(waiter.done).toBe(false);
    expect(c.stat('lock_waits', 1)).toBe(1);

    // 1. Freeze: node 1 answers once the holder let go.
    const G2 = c.nextGeneration();
    const fz = freeze(c, vnnmap, G2);
    c.advance(10);
    expect(fz.map((p) => p.done)).toEqual([true, false, true]);
    c.call(1, 'holder', { unlock: { dbId: c.dbId, key: held, token } }).body('ok');
    c.advance(10);
    const replies: FreezeReply[] = fz.map((p) => p.body('freezeReply'));
    for (const r of replies) expect(r).toMatchObject({ installedGeneration: G1, dbs: [{ dbId: c.dbId, generation: G1, valid: true }] });

    // 2. Pull from all, merge, push to all.
    const pulls = vnnmap.map((pnn) => ({ pnn, ...pullAll(c, pnn, G2, 4) }));
    for (const p of pulls) expect(p).toMatchObject({ valid: true, generation: G1 });
    const merged = merge(pulls, leader);
    const live = [...expected].filter(([, v]) => v !== undefined).map(([k]) => k).sort();
    expect(merged.map((r) => text(r.key)).sort()).toEqual(live);
    for (const pnn of vnnmap) push(c, pnn, merged, { generation: G2 });

    // 3. Install, then thaw.
    install(c, { generation: G2, members: vnnmap, replies, leader });
    for (const pnn of vnnmap) {
      expect(nodeState(c, pnn)).toMatchObject({ generation: G2, vnnmap, frozen: true });
      expect(c.cores[pnn]!.ctx.dbs.get(c.dbId)!.file.meta.get()).toMatchObject({ generation: G2, valid: 1, frozen: 1 });
    }
    c.generation = G2;
    for (const pnn of vnnmap) ctl(c, pnn, { thaw: { term: 1, generation: G2 } }).body('ok');
    for (const pnn of vnnmap) expect(c.cores[pnn]!.ctx.dbs.get(c.dbId)!.file.meta.get().frozen).toBe(0);

    // Every node holds every live record, the leader is dmaster of all and strictly newest —
    // except k7, which the waiting client on node 2 takes over as soon as the thaw lets it.
    const mergedRsn = new Map(merged.map((r) => [text(r.key), Number(r.header!.rsn)]));
    for (const pnn of vnnmap) {
      expect(keysOf(c, pnn).sort()).toEqual(live);
      for (const k of live.filter((x) => x !== 'k7')) {
        expect(c.record(pnn, Buffer.from(k))).toMatchObject({ dmaster: leader, data: Buffer.from(expected.get(k)!), rsn: mergedRsn.get(k)! + (pnn === leader ? 1 : 0) });
        expect(c.record(pnn, Buffer.from(k))!.flags & RecordFlags.MIGRATED_WITH_DATA).toBe(RecordFlags.MIGRATED_WITH_DATA);
      }
    }

    // The waiter's call restarts in G2 and completes without error once leases are granted.
    c.advance(1000);
    const r = waiter.body('fetchLockReply');
    expect(text(r.data)).toBe(expected.get('k7'));
    expect(r.header).toMatchObject({ dmaster: 2, rsn: mergedRsn.get('k7')! + 2 });
    c.store(2, 'waiter', held, Number(r.token), Buffer.from('v7@after'));
    c.runUntilIdle();
    expected.set('k7', 'v7@after');

    for (const pnn of vnnmap) {
      for (const [k, v] of expected) {
        const f = c.request(pnn, 'reader', { fetch: { dbId: c.dbId, key: Buffer.from(k) } });
        c.runUntilIdle();
        const fr = f.body('fetchReply');
        expect({ k, pnn, found: fr.found, data: text(fr.data) }).toEqual({ k, pnn, found: v !== undefined, data: v ?? '' });
      }
    }
  });

  test('a hand-over in flight at the freeze is dropped, and the recovery keeps the record\'s data', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('precious'));
    const fl = c.fetchLock(0, 'taker', key);
    while (!c.queued(2, 1).includes('dmasterRequest')) expect(c.step()).toBe(true);
    // Node 2 has handed the record over (its copy names node 0); the freeze overtakes it.
    expect(c.record(2, key)).toMatchObject({ dmaster: 0 });
    const G2 = c.nextGeneration();
    const fz = [0, 1, 2].map((pnn) => c.request(pnn, 'recoverd', { freeze: { term: 1, generation: G2 } }));
    for (const pnn of [0, 1, 2]) c.deliverRequest(pnn, 'recoverd');
    const wrong = c.stat('wrong_generation', 1);
    c.runUntilIdle();
    expect(c.stat('wrong_generation', 1)).toBe(wrong + 1);
    expect(c.record(0, key)?.data.toString() ?? '').toBe('');
    for (const p of fz) p.body('freezeReply');
    // The leader runs the recovery with a newer generation (the freeze above is superseded).
    recover(c, 1, vnnmap);
    // The leader pushed the record everywhere; the waiter on node 0 may take it over at once after the thaw.
    for (const pnn of vnnmap) expect(text(c.record(pnn, key)!.data)).toBe('precious');
    c.advance(1000);
    expect(text(fl.body('fetchLockReply').data)).toBe('precious');
  });

  test('a recovery control with a lower term than one seen is refused with ERR_STALE_TERM', () => {
    const c = startCluster();
    c.term = 5;
    const G5 = c.nextGeneration();
    ctl(c, 0, { freeze: { term: 5, generation: G5 } }).body('freezeReply');
    const participants = [{ pnn: 0, incarnation: c.cores[0]!.ctx.incarnation }];
    expect(ctl(c, 0, { freeze: { term: 4, generation: G5 + 1 } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 0, { pullDb: { term: 3, generation: G5, dbId: c.dbId } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 0, { pushDbStart: { term: 4, pushId: 1, dbId: c.dbId, name: 'test.tdb', generation: G5 } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 0, { installGeneration: { term: 4, generation: G5, pnns: [0], participants } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 0, { thaw: { term: 4, generation: G5 } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 0, { setNodeFlags: { term: 4, banSeconds: 10 } }).errorCode).toBe('ERR_STALE_TERM');
    expect(nodeState(c, 0)).toMatchObject({ highestTerm: 5, frozen: true, generation: c.generation, banned: false });
    // The same term and a higher one are taken.
    ctl(c, 0, { pullDb: { term: 5, generation: G5, dbId: c.dbId } }).body('pullDbReply');
    ctl(c, 0, { installGeneration: { term: 6, generation: G5, pnns: [0], participants } }).body('ok');
    expect(nodeState(c, 0).highestTerm).toBe(6);
    expect(c.nodeStates[0]!.state.highestTerm).toBe(6);
  });

  test('a recovery over all three nodes leaves the record flow working', () => {
    const c = startCluster();
    for (let i = 0; i < 6; i++) c.write(i % 3, 'w', Buffer.from(`r${i}`), Buffer.from(`v${i}`));
    recover(c, 1, vnnmap);
    c.advance(1000);
    for (let i = 0; i < 6; i++) {
      expect(c.record(1, Buffer.from(`r${i}`))!.dmaster).toBe(1);
      const h = c.write((i + 1) % 3, 'w', Buffer.from(`r${i}`), Buffer.from(`w${i}`));
      expect(h.dmaster).toBe((i + 1) % 3);
    }
  });
});

describe('node state', () => {
  test('a stopped node refuses record operations with ERR_STOPPED; a banned one with ERR_BANNED and the ban ends after its seconds; getNodeState reports the flags', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    ctl(c, 1, { setNodeFlags: { stop: true } }).body('ok');
    expect(c.call(1, 'a', { fetchLock: { dbId: c.dbId, key } }).errorCode).toBe('ERR_STOPPED');
    expect(c.call(1, 'a', { fetch: { dbId: c.dbId, key } }).errorCode).toBe('ERR_STOPPED');
    expect(nodeState(c, 1)).toMatchObject({ stopped: true, frozen: true, banned: false, joined: false });
    const flags = (pnn: number): string[] => ctl(c, pnn, { getNodeMap: {} }).body('nodeMap').nodes.find((n) => n.pnn === pnn)!.flags ?? [];
    expect(flags(1)).toEqual(['STOPPED', 'INACTIVE']);
    ctl(c, 1, { setNodeFlags: { cont: true } }).body('ok');
    // Continued, it is still not taken in: frozen until a recovery.
    expect(nodeState(c, 1)).toMatchObject({ stopped: false, frozen: true });

    ctl(c, 2, { setNodeFlags: { banSeconds: 3 } }).body('ok');
    expect(c.call(2, 'a', { fetchLock: { dbId: c.dbId, key } }).errorCode).toBe('ERR_BANNED');
    expect(nodeState(c, 2)).toMatchObject({ banned: true, banRemainingSeconds: 3, frozen: true });
    expect(flags(2)).toEqual(['BANNED', 'INACTIVE']);
    expect(ctl(c, 2, { thaw: { term: 1, generation: c.generation } }).errorCode).toBe('ERR_WRONG_GENERATION');
    c.advance(1500);
    expect(nodeState(c, 2)).toMatchObject({ banned: true, banRemainingSeconds: 2 });
    c.advance(1500);
    expect(nodeState(c, 2)).toMatchObject({ banned: false, banRemainingSeconds: 0, frozen: true });
    expect(flags(2)).toEqual(['OK']);
    expect(c.events[2]!).toContainEqual({ recoveryWanted: { reason: 'ban over' } });
    // No longer refused: it waits for the recovery that thaws the node.
    const fl = c.fetchLock(2, 'a', key);
    c.runUntilIdle();
    expect(fl.done).toBe(false);
  });

  test('requestRecovery and setNodeFlags raise recovery_requests', () => {
    const c = startCluster();
    const n0 = Number(nodeState(c, 0).recoveryRequests);
    ctl(c, 0, { requestRecovery: { reason: 'operator' } }).body('ok');
    expect(Number(nodeState(c, 0).recoveryRequests)).toBe(n0 + 1);
    expect(c.events[0]!).toContainEqual({ recoveryWanted: { reason: 'operator' } });
    for (const f of [{ stop: true }, { cont: true }, { banSeconds: 5 }, { unban: true }]) {
      const before = Number(nodeState(c, 0).recoveryRequests);
      ctl(c, 0, { setNodeFlags: f }).body('ok');
      expect(Number(nodeState(c, 0).recoveryRequests)).toBe(before + 1);
    }
    expect(nodeState(c, 0).banned).toBe(false);
    expect(ctl(c, 0, { setNodeFlags: {} }).errorCode).toBe('ERR_INVALID_ARGUMENT');
  });

  test('continue on a node that is not stopped and unban on one that is not banned change nothing and ask for no recovery', () => {
    const c = startCluster();
    const before = Number(nodeState(c, 0).recoveryRequests);
    const events = c.events[0]!.length;
    ctl(c, 0, { setNodeFlags: { cont: true } }).body('ok');
    ctl(c, 0, { setNodeFlags: { unban: true } }).body('ok');
    expect(Number(nodeState(c, 0).recoveryRequests)).toBe(before);
    expect(c.events[0]!.slice(events).some((e) => e.recoveryWanted !== undefined)).toBe(false);
    expect(nodeState(c, 0)).toMatchObject({ stopped: false, banned: false, frozen: false });
  });

  test('setActive(false) freezes and drops the lease but keeps the copies valid (G_max decides, §5.4); a recovery takes the node in again', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(2, 'w', key, Buffer.from('v'));
    ctl(c, 2, { setActive: { term: 1, active: false } }).body('ok');
    expect(nodeState(c, 2)).toMatchObject({ inactive: true, frozen: true });
    expect(c.cores[2]!.ctx.dbs.get(c.dbId)!.file.meta.get()).toMatchObject({ valid: 1, frozen: 1, lease_until_ns: 0 });
    expect(c.call(2, 'a', { fetchLock: { dbId: c.dbId, key } }).errorCode).toBe('ERR_INACTIVE');
    ctl(c, 2, { setActive: { term: 1, active: true } }).body('ok');
    expect(nodeState(c, 2)).toMatchObject({ inactive: false, frozen: true });
    expect(c.events[2]!.some((e) => e.recoveryWanted !== undefined)).toBe(true);
    // The next recovery counts node 2's copy (nobody moved on) and thaws it.
    recover(c, 0, vnnmap);
    expect(c.record(0, key)?.data.toString()).toBe('v');
    c.advance(1000);
    expect(nodeState(c, 2)).toMatchObject({ frozen: false, joined: true });
  });
});

describe('links', () => {
  const tunables = { keepaliveIntervalSeconds: 1, keepaliveLimitCount: 3 };

  test('one periodic timer per node: no keepalive timer, keepalives and the silence check ride on the lease-probe tick', () => {
    const c = startCluster({ tunables });
    c.advance(3000);
    for (const core of c.cores) expect(c.armedTimers(core.ctx.pnn)).toEqual(['lease-probe', 'sweep']);
    // Members probe every peer: no keepalive is needed on top.
    expect(c.sentBodies.get('keepalive') ?? 0).toBe(0);
  });

  test('dbds that neither probe nor ack (no generation yet) keep their links up with keepalives sent on the lease-probe timer', () => {
    const c = new Cluster({ tunables });
    onTestFinished(() => c.close());
    for (const core of c.cores) core.start();
    for (const a of c.cores) for (const b of c.cores) if (a !== b) a.onLinkUp(b.ctx.pnn);
    c.runUntilIdle();
    c.advance(5000);
    for (const core of c.cores) expect(c.armedTimers(core.ctx.pnn)).toEqual(['lease-probe', 'sweep']);
    // KeepaliveInterval 1 s: about one keepalive per second to each of the 2 peers of 3 nodes.
    expect(c.sentBodies.get('keepalive') ?? 0).toBeGreaterThanOrEqual(3 * 2 * 4);
    expect(c.sentBodies.get('probe') ?? 0).toBe(0);
    for (const ev of c.events) expect(ev.filter((e) => e.link?.state === 'down')).toEqual([]);
  });

  test('a peer silent for KeepaliveInterval × KeepaliveLimit is reported down and a recovery is wanted', () => {
    const c = startCluster({ tunables });
    c.advance(2000);
    const wanted = Number(nodeState(c, 0).recoveryRequests);
    c.drop(0, 1);
    c.drop(1, 0);
    c.advance(2500);
    expect(c.events[0]!).not.toContainEqual({ link: { pnn: 1, state: 'down' } });
    c.advance(2000);
    expect(c.events[0]!).toContainEqual({ link: { pnn: 1, state: 'down' } });
    expect(c.events[1]!).toContainEqual({ link: { pnn: 0, state: 'down' } });
    expect(c.events[0]!).not.toContainEqual({ link: { pnn: 2, state: 'down' } });
    expect(c.events[0]!.some((e) => e.recoveryWanted?.reason?.includes('link to node 1 down'))).toBe(true);
    expect(Number(nodeState(c, 0).recoveryRequests)).toBeGreaterThan(wanted);
    expect(nodeState(c, 0).linksUp).toEqual([2]);
  });

  test('a peer with a new incarnation is reported restarted', () => {
    const c = startCluster({ tunables });
    const inc1 = c.cores[1]!.ctx.incarnation;
    c.inject(0, { keepalive: {}, node: { srcPnn: 1, generation: c.generation, incarnation: inc1 ^ 0x5a5a, seq: 1, nodesHash: c.nodes.hash } });
    expect(c.events[0]!).toContainEqual({ link: { pnn: 1, state: 'restarted' } });
    expect(c.events[0]!).toContainEqual({ recoveryWanted: { reason: 'node 1 restarted' } });
  });

  test('a gap in a link\'s sequence numbers asks for a recovery', () => {
    const c = startCluster({ tunables });
    const before = c.events[0]!.length;
    c.drop(1, 0);
    c.cores[1]!.ctx.sendNode(0, { keepalive: {} });
    c.heal(1, 0);
    c.cores[1]!.ctx.sendNode(0, { keepalive: {} });
    c.runUntilIdle();
    expect(c.droppedCount).toBe(1);
    expect(c.events[0]!.slice(before)).toEqual([{ recoveryWanted: { reason: 'messages from node 1 lost' } }]);
  });

  test('a node\'s sequence numbers to each peer start again at 1 in each generation it installs', () => {
    const c = startCluster({ tunables });
    const sent: { generation: number; seq: number }[] = [];
    const io = c.cores[1]!.io;
    const send = io.sendToNode.bind(io);
    io.sendToNode = (to, env) => {
      if (to === 0) sent.push({ generation: Number(env.node!.generation), seq: Number(env.node!.seq) });
      send(to, env);
    };
    c.cores[1]!.ctx.sendNode(0, { keepalive: {} });
    const g2 = recover(c, 2, [0, 1, 2]);
    c.cores[1]!.ctx.sendNode(0, { keepalive: {} });
    const firstOf = (g: number): number => sent.find((m) => m.generation === g)!.seq;
    expect(firstOf(g2)).toBe(1);
    for (let i = 1; i < sent.length; i++) {
      const [a, b] = [sent[i - 1]!, sent[i]!];
      expect(b.generation === a.generation ? b.seq - a.seq : b.seq).toBe(1);
    }
  });

  test('messages lost before a recovery ask for no second one after it; a gap within a generation does, and an older generation\'s late message is ignored', () => {
    const c = startCluster({ tunables });
    const inc1 = c.cores[1]!.ctx.incarnation;
    const from1 = (generation: number, seq: number) => ({ keepalive: {}, node: { srcPnn: 1, generation, incarnation: inc1, seq, nodesHash: c.nodes.hash } });
    const wanted = (from: number): string[] => c.events[0]!.slice(from).flatMap((e) => (e.recoveryWanted ? [e.recoveryWanted.reason ?? ''] : []));
    const g = c.generation;
    const before = c.events[0]!.length;
    c.inject(0, from1(g, 100));
    c.inject(0, from1(g, 101));
    // 102–107 of generation g were lost (a cut); then node 1 installed g + 1: it starts again at 1.
    c.inject(0, from1(g + 1, 1));
    c.inject(0, from1(g + 1, 2));
    c.inject(0, from1(g, 108)); // late, of the old generation: ignored
    expect(wanted(before).filter((r) => r === 'messages from node 1 lost')).toHaveLength(1); // 100 after what node 0 had seen
    const mid = c.events[0]!.length;
    c.inject(0, from1(g + 1, 4)); // 3 lost in the same generation
    expect(wanted(mid)).toEqual(['messages from node 1 lost']);
  });

});
