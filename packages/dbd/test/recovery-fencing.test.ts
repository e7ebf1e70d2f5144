// The fences of DESIGN §1, §2.2 and §5.3–5.4 on three dbd cores wired in memory: ordered and
// remembered generations, participants as (PNN, incarnation), the lease counted over the nodes
// file, no store without a lease, broken invariants that ask for a recovery instead of being
// masked, and a traverse that does not span a recovery. Each test is a hole a review found.
import { describe, expect, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { RecordFlags } from '@ctdbng/store';
import { ctdbng } from '@ctdbng/protocol';
import { keyWithLmaster, startCluster, type Cluster } from './harness.js';
import { ctl, freeze, merge, pullAll, push, recover } from './recovery-driver.js';

const vnnmap = [0, 1, 2];
const lm = (key: Buffer): number => lmasterOf(key, vnnmap);

function nodeState(c: Cluster, pnn: number) {
  return ctl(c, pnn, { getNodeState: {} }).body('nodeState');
}

function lockHeld(c: Cluster, pnn: number, clientId: string, key: Buffer): number {
  const fl = c.fetchLock(pnn, clientId, key);
  c.runUntilIdle();
  return Number(fl.body('fetchLockReply').token);
}

function wanted(c: Cluster, pnn: number, reason: RegExp): boolean {
  return c.events[pnn]!.some((e) => reason.test(e.recoveryWanted?.reason ?? ''));
}

describe('ordered, remembered generations', () => {
  test('a freeze, push or install for a generation not above the installed one is refused', () => {
    const c = startCluster();
    const g = c.generation;
    expect(ctl(c, 0, { freeze: { term: 1, generation: g } }).errorCode).toBe('ERR_WRONG_GENERATION');
    expect(ctl(c, 0, { freeze: { term: 1, generation: g - 1 } }).errorCode).toBe('ERR_WRONG_GENERATION');
    const G2 = c.nextGeneration();
    const replies = freeze(c, [0], G2).map((p) => p.body('freezeReply'));
    // An older freeze after a newer one is refused too.
    expect(ctl(c, 0, { freeze: { term: 1, generation: G2 - 1 } }).errorCode).toBe('ERR_WRONG_GENERATION');
    const participants = replies.map((r) => ({ pnn: r.pnn, incarnation: r.incarnation }));
    expect(ctl(c, 0, { installGeneration: { term: 1, generation: g, pnns: [0], participants } }).errorCode).toBe('ERR_WRONG_GENERATION');
    expect(ctl(c, 0, { pushDbStart: { term: 1, pushId: 1, dbId: c.dbId, name: 'test.tdb', generation: g, member: true } }).errorCode).toBe('ERR_WRONG_GENERATION');
    expect(nodeState(c, 0).generation).toBe(g);
  });

  test('install and thaw are taken only for the generation the node is frozen for, and thaw only after install', () => {
    const c = startCluster();
    const G2 = c.nextGeneration();
    const G3 = c.nextGeneration();
    const participants = vnnmap.map((pnn) => ({ pnn, incarnation: c.cores[pnn]!.ctx.incarnation }));
    // Not frozen at all: a recovery that never froze this node installs nothing here.
    expect(ctl(c, 1, { installGeneration: { term: 1, generation: G2, pnns: vnnmap, participants } }).errorCode).toBe('ERR_WRONG_GENERATION');
    freeze(c, [1], G2)[0]!.body('freezeReply');
    expect(ctl(c, 1, { installGeneration: { term: 1, generation: G3, pnns: vnnmap, participants } }).errorCode).toBe('ERR_WRONG_GENERATION');
    expect(ctl(c, 1, { thaw: { term: 1, generation: G2 } }).errorCode).toBe('ERR_WRONG_GENERATION');
    // A participant list naming another incarnation of this node: it is not the dbd that froze.
    const stale = participants.map((p) => (p.pnn === 1 ? { pnn: 1, incarnation: p.incarnation ^ 1 } : p));
    expect(ctl(c, 1, { installGeneration: { term: 1, generation: G2, pnns: vnnmap, participants: stale } }).errorCode).toBe('ERR_WRONG_GENERATION');
    ctl(c, 1, { installGeneration: { term: 1, generation: G2, pnns: vnnmap, participants } }).body('ok');
    ctl(c, 1, { thaw: { term: 1, generation: G2 } }).body('ok');
  });

  test('the installed generation, highest term and frozen-for survive a dbd restart; the restarted dbd refuses older freezes and serves nothing', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('v')); // mastered on node 0: it survives node 1's restart
    const g = c.generation;
    c.term = 3;
    const G3 = c.nextGeneration();
    freeze(c, [1], G3)[0]!.body('freezeReply');
    expect(c.nodeStates[1]!.state).toEqual({ installedGeneration: g, highestTerm: 3, frozenFor: G3, amnesiac: false });
    const core = c.restart(1);
    expect(core.ctx.status).toMatchObject({ installedGeneration: g, highestTerm: 3, frozenFor: G3, recoveryFreeze: 0, joined: false });
    expect(nodeState(c, 1)).toMatchObject({ generation: g, frozen: true, joined: false, vnnmap: [] });
    expect(ctl(c, 1, { freeze: { term: 2, generation: G3 + 1 } }).errorCode).toBe('ERR_STALE_TERM');
    expect(ctl(c, 1, { freeze: { term: 3, generation: G3 } }).errorCode).toBe('ERR_WRONG_GENERATION');
    // The copies were wiped at start and are invalid; the lease is 0; nothing is served.
    expect(c.cores[1]!.ctx.dbs.get(c.dbId)!.file.meta.get()).toMatchObject({ frozen: 1, lease_until_ns: 0 });
    const fl = c.fetchLock(1, 'x', key);
    c.runUntilIdle();
    c.advance(2000);
    expect(fl.done).toBe(false);
    // A recovery takes it in, and the records come back from the others.
    recover(c, 0, vnnmap);
    c.advance(1000);
    expect(fl.body('fetchLockReply').data.toString()).toBe('v');
  });

  test('attaching a db sets its copy generation to the installed generation (valid on a member taken in)', () => {
    const c = startCluster();
    ctl(c, 2, { attach: { name: 'late.tdb', persistent: false } }).body('attachReply');
    const dbId = c.cores[2]!.ctx.dbs.all().find((d) => d.info.name === 'late.tdb')!.info.dbId;
    for (const pnn of vnnmap) expect(c.cores[pnn]!.ctx.dbs.get(dbId)!.file.meta.get()).toMatchObject({ generation: c.generation, valid: 1 });
  });
});

describe('participants and the lease over the nodes file (§2.2)', () => {
  test('a generation whose participants are a minority of the nodes file gives no lease', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    // A leader that installs a generation with node 0 alone (what the quorum rule forbids).
    recover(c, 0, [0]);
    c.advance(3 * c.tunables.sharedAccessLeaseMs);
    expect(c.cores[0]!.ctx.leaseValid()).toBe(false);
    const fl = c.fetchLock(0, 'x', key);
    c.runUntilIdle();
    c.advance(1000);
    expect(fl.done).toBe(false);
  });

  test('nodes of a replaced generation frozen by the new one stop acking: the unfrozen minority cannot renew', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(2, 'w', key, Buffer.from('v'));
    // A new generation over nodes 0 and 1 (a quorum): node 2 is not frozen.
    recover(c, 0, [0, 1]);
    c.advance(c.tunables.sharedAccessLeaseMs + 10);
    expect(c.cores[2]!.ctx.leaseValid()).toBe(false);
    expect(c.cores[0]!.ctx.leaseValid()).toBe(true);
  });

  test('a restarted dbd is a stranger: nobody acks its probes, it acks none, and its node messages are dropped', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('mastered on 0'));
    const core = c.restart(1);
    // Its probes would carry the generation it remembers; nobody acks a stranger.
    core.ctx.status.joined = true;
    core.ctx.vnn = { generation: c.generation, pnns: vnnmap };
    const acks = c.sentBodies.get('probeAck') ?? 0;
    core.fence.tick();
    c.runUntilIdle();
    expect(c.sentBodies.get('probeAck') ?? 0).toBe(acks);
    expect(core.ctx.leaseValid()).toBe(false);
    // A call from the stranger does not reach the record flow of the others.
    const served = c.stat('calls_served_remote', 0);
    const wrong = c.stat('wrong_generation', 0);
    core.ctx.sendNode(0, { callRequest: { dbId: c.dbId, key, origin: 1, hopcount: 0, callId: 5 } });
    c.runUntilIdle();
    expect(c.stat('wrong_generation', 0)).toBe(wrong + 1);
    expect(c.stat('calls_served_remote', 0)).toBe(served);
    expect(c.record(0, key)).toMatchObject({ dmaster: 0 });
  });

  test('a dbd restarted while lmaster of a key another node masters creates no second dmaster', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('mastered on 2'));
    expect(c.record(2, key)).toMatchObject({ dmaster: 2 });
    c.restart(1); // the lmaster's copy is gone with the wipe
    expect(c.record(1, key)).toBeUndefined();
    // A client of node 0 asks: its call goes to the lmaster, a stranger now, which drops it.
    const fl = c.fetchLock(0, 'x', key);
    c.runUntilIdle();
    c.advance(2000);
    expect(fl.done).toBe(false);
    expect(c.record(1, key)).toBeUndefined();
    expect(c.copies(key).filter((x) => x.rec.dmaster === x.pnn).map((x) => x.pnn)).toEqual([2]);
    // After the recovery there is exactly one dmaster and the data is intact.
    recover(c, 0, vnnmap);
    c.advance(1000);
    expect(fl.body('fetchLockReply').data.toString()).toBe('mastered on 2');
  });
});

describe('no store without a lease (§2.2)', () => {
  test('a lock holder on a node that is then stopped fails its store with ERR_STOPPED and writes nothing; the lease is dropped at once', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(2, 'w', key, Buffer.from('before'));
    const token = lockHeld(c, 2, 'holder', key);
    ctl(c, 2, { setNodeFlags: { stop: true } }).body('ok');
    expect(c.cores[2]!.ctx.dbs.get(c.dbId)!.file.meta.get()).toMatchObject({ lease_until_ns: 0, frozen: 1, valid: 0 });
    const st = c.store(2, 'holder', key, token, Buffer.from('after stop'));
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_STOPPED');
    expect(c.record(2, key)!.data.toString()).toBe('before');
  });

  test('banned and inactive nodes drop the lease at once and refuse a holder\'s store', () => {
    for (const [flag, code] of [[{ setNodeFlags: { banSeconds: 60 } }, 'ERR_BANNED'], [{ setActive: { term: 1, active: false } }, 'ERR_INACTIVE']] as const) {
      const c = startCluster();
      const key = keyWithLmaster(lm, 1);
      c.write(1, 'w', key, Buffer.from('before'));
      const token = lockHeld(c, 1, 'holder', key);
      ctl(c, 1, flag).body('ok');
      expect(c.cores[1]!.ctx.leaseValid()).toBe(false);
      expect(c.cores[1]!.ctx.dbs.get(c.dbId)!.file.meta.get().lease_until_ns).toBe(0);
      const st = c.store(1, 'holder', key, token, Buffer.from('after'));
      c.runUntilIdle();
      expect(st.errorCode).toBe(code);
      expect(c.record(1, key)!.data.toString()).toBe('before');
    }
  });

  test('a store parked for a lapsed lease never writes once a recovery took the record elsewhere', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(2, 'w', key, Buffer.from('before'));
    const token = lockHeld(c, 2, 'holder', key);
    // Node 2 cut off both ways: its lease lapses; its holder's store waits.
    for (const p of [0, 1]) {
      c.drop(2, p);
      c.drop(p, 2);
    }
    c.advance(c.tunables.sharedAccessLeaseMs + 10);
    const st = c.store(2, 'holder', key, token, Buffer.from('lost write'));
    c.runUntilIdle();
    expect(st.done).toBe(false);
    // The others recover without it and take the record over.
    recover(c, 0, [0, 1]);
    c.write(1, 'w', key, Buffer.from('newer'));
    // Node 2 comes back through a recovery (its freeze voids the lock): the parked store fails.
    for (const p of [0, 1]) {
      c.heal(2, p);
      c.heal(p, 2);
    }
    recover(c, 0, vnnmap);
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_LOCK_LOST');
    for (const pnn of vnnmap) expect(c.record(pnn, key)!.data.toString()).toBe('newer');
  });
});

describe('broken invariants ask for a recovery and change nothing (§2.1, §4.3)', () => {
  test('a DmasterRequest from a node that is not the recorded dmaster is not applied', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('owned by 2'));
    const before = c.record(1, key);
    c.cores[0]!.ctx.sendNode(1, { dmasterRequest: { dbId: c.dbId, key, header: { rsn: 99, dmaster: 0, flags: 0 }, data: Buffer.from('forged'), newDmaster: 0, callId: 1 } });
    c.runUntilIdle();
    expect(c.record(1, key)).toEqual(before);
    expect(c.record(0, key)?.data.toString() ?? '').not.toBe('forged');
    expect(wanted(c, 1, /DmasterRequest from a node that is not the recorded dmaster/)).toBe(true);
  });

  test('a hand-over that arrives older than the local copy is not stored', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    c.write(2, 'w', key, Buffer.from('v'));
    const mine = c.record(2, key)!;
    c.cores[0]!.ctx.sendNode(2, { dmasterReply: { dbId: c.dbId, key, header: { rsn: mine.rsn - 1, dmaster: 2, flags: 0 }, data: Buffer.from('old'), callId: 1 } });
    c.runUntilIdle();
    expect(c.record(2, key)).toEqual(mine);
    expect(wanted(c, 2, /not newer than the local copy/)).toBe(true);
  });

  test('a call for a db the node has not attached asks for a recovery instead of vanishing', () => {
    const c = startCluster();
    c.cores[0]!.ctx.sendNode(1, { callRequest: { dbId: 0xbad, key: Buffer.from('k'), origin: 0, hopcount: 0, callId: 3 } });
    c.runUntilIdle();
    expect(wanted(c, 1, /not attached here/)).toBe(true);
  });

  test('a call redirected back to the lmaster at an unchanged rsn (a lost hand-over) asks for a recovery', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('v'));
    // Node 0 takes the record; node 2's DmasterRequest to the lmaster is lost on the way.
    c.drop(2, 1);
    const fl = c.fetchLock(0, 'x', key);
    c.runUntilIdle();
    c.heal(2, 1);
    expect(fl.done).toBe(false);
    expect(c.record(1, key)).toMatchObject({ dmaster: 2 });
    expect(c.record(2, key)).toMatchObject({ dmaster: 0 });
    // A client of the lmaster now asks: its call goes to node 2, which sends it back.
    const other = c.fetchLock(1, 'y', key);
    c.runUntilIdle();
    expect(other.done).toBe(false);
    expect(wanted(c, 1, /lost hand-over/)).toBe(true);
    expect(c.maxHopcount).toBeLessThan(10);
  });

  test('vacuum: a member answering IS_DMASTER for a tombstone the lmaster still masters asks for a recovery', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    c.write(0, 'w', key, undefined);
    const tomb = c.record(0, key)!;
    // Node 1 claims to be dmaster too (a broken invariant planted in its file).
    c.cores[1]!.ctx.dbs.get(c.dbId)!.file.tx(() => c.cores[1]!.ctx.dbs.get(c.dbId)!.file.records.put(key, { rsn: tomb.rsn, dmaster: 1, flags: RecordFlags.MIGRATED_WITH_DATA }, Buffer.alloc(0)));
    const r = ctl(c, 0, { vacuumRemote: { dbId: c.dbId, phase: ctdbng.v1.VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE, keys: [{ key, rsn: tomb.rsn }] } }).body('vacuumRemoteReply');
    expect(r.nodes.find((n) => n.pnn === 1)!.results).toEqual([ctdbng.v1.VacuumResult.VACUUM_RESULT_IS_DMASTER]);
    expect(wanted(c, 0, /IS_DMASTER for a record this node is still dmaster of/)).toBe(true);
    expect(c.record(0, key)).toEqual(tomb);
  });
});

describe('controls and the node socket', () => {
  test('a frame without a node header on the node socket is taken only as a recovery control: record operations and tunables are refused', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    const asked = (init: Parameters<Cluster['request']>[2]): string | undefined => {
      const p = c.request(0, 'ignored', init);
      c.runUntilIdle();
      return p.errorCode;
    };
    // Through onNodeControl (what the shell calls for a frame without a node header).
    const replies: { code: number | undefined }[] = [];
    const io = c.cores[0]!.io;
    const send = io.sendToClient;
    io.sendToClient = (id, env) => (id === 'r:peer' ? void replies.push({ code: env.error?.code ?? undefined }) : send(id, env));
    for (const env of [{ fetchLock: { dbId: c.dbId, key } }, { setTunable: { name: 'LockLeaseSeconds', value: 1 } }, { setNodeFlags: { stop: true } }, { attach: { name: 'x.tdb' } }]) {
      c.cores[0]!.onNodeControl('r:peer', { requestId: 1, ...env } as never);
    }
    io.sendToClient = send;
    expect(replies.map((r) => r.code)).toEqual([ctdbng.v1.ErrorCode.ERR_UNKNOWN_TYPE, ctdbng.v1.ErrorCode.ERR_UNKNOWN_TYPE, ctdbng.v1.ErrorCode.ERR_UNKNOWN_TYPE, ctdbng.v1.ErrorCode.ERR_UNKNOWN_TYPE]);
    expect(nodeState(c, 0).stopped).toBe(false);
    expect(asked({ getNodeState: {} })).toBeUndefined();
  });
});

describe('traverse and recovery (§2.3)', () => {
  test('a cluster-wide traverse that crosses a recovery fails with ERR_WRONG_GENERATION instead of returning a record twice', () => {
    const c = startCluster({ tunables: { traverseBatchRecordsCount: 2 } });
    for (let i = 0; i < 12; i++) c.write(i % 3, 'w', Buffer.from(`t${i}`), Buffer.from(`v${i}`));
    const start = c.call(0, 'trav', { traverseStart: { dbId: c.dbId } }).body('traverseBatch');
    expect(start.done).toBe(false);
    recover(c, 1, vnnmap);
    const next = c.call(0, 'trav', { traverseNext: { traverseId: start.traverseId } });
    expect(next.errorCode).toBe('ERR_WRONG_GENERATION');
    // A traverse started afresh returns every record once.
    let batch = c.call(0, 'trav2', { traverseStart: { dbId: c.dbId } }).body('traverseBatch');
    const keys = batch.records.map((r) => Buffer.from(r.key!).toString());
    while (!batch.done) {
      batch = c.call(0, 'trav2', { traverseNext: { traverseId: batch.traverseId } }).body('traverseBatch');
      keys.push(...batch.records.map((r) => Buffer.from(r.key!).toString()));
    }
    expect(keys.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `t${i}`).sort());
  });

  test('a member refuses a traverse page of another generation', () => {
    const c = startCluster();
    const replies: ctdbng.v1.ITraversePageReply[] = [];
    c.write(1, 'w', keyWithLmaster(lm, 1), Buffer.from('x'));
    c.sendAs(0, 1, { traversePage: { traverseId: 9, dbId: c.dbId } }, c.generation + 1);
    const core0 = c.cores[0]!;
    const orig = core0.traverses.onPage.bind(core0.traverses);
    core0.traverses.onPage = (from, msg) => void replies.push(msg);
    c.runUntilIdle();
    core0.traverses.onPage = orig;
    expect(replies.map((r) => r.errorCode)).toEqual([ctdbng.v1.ErrorCode.ERR_WRONG_GENERATION]);
  });
});

describe('a recovery that fails part-way loses nothing (§5.4)', () => {
  test('pushed everywhere, installed nowhere: the next recovery (G_max unchanged) keeps every record', () => {
    const c = startCluster();
    for (let i = 0; i < 6; i++) c.write(i % 3, 'w', Buffer.from(`p${i}`), Buffer.from(`v${i}`));
    const G2 = c.nextGeneration();
    freeze(c, vnnmap, G2).forEach((p) => p.body('freezeReply'));
    // The leader pushed to every node and died before any install.
    const pulled = vnnmap.map((pnn) => ({ pnn, records: pullAll(c, pnn, G2).records }));
    for (const pnn of vnnmap) push(c, pnn, merge(pulled, 0), { generation: G2 });
    // A new leader (term 2) recovers: the pushed copies (generation G2 ≥ G_max) count.
    c.term = 2;
    recover(c, 2, vnnmap);
    c.advance(1000);
    for (let i = 0; i < 6; i++) for (const pnn of vnnmap) expect(c.record(pnn, Buffer.from(`p${i}`))?.data.toString()).toBe(`v${i}`);
  });

  test('installed on some nodes, thawed nowhere: the next recovery takes G_max from them and keeps every record', () => {
    const c = startCluster();
    for (let i = 0; i < 6; i++) c.write(i % 3, 'w', Buffer.from(`q${i}`), Buffer.from(`v${i}`));
    const G2 = c.nextGeneration();
    const replies = freeze(c, vnnmap, G2).map((p) => p.body('freezeReply'));
    const pulled = vnnmap.map((pnn) => ({ pnn, records: pullAll(c, pnn, G2).records }));
    for (const pnn of vnnmap) push(c, pnn, merge(pulled, 0), { generation: G2 });
    // Installed on node 0 only (the leader), then the install failed on node 2.
    ctl(c, 0, { installGeneration: { term: 1, generation: G2, pnns: vnnmap, participants: replies.map((r) => ({ pnn: r.pnn, incarnation: r.incarnation })), leader: 0 } }).body('ok');
    c.generation = G2;
    recover(c, 1, vnnmap);
    c.advance(1000);
    for (let i = 0; i < 6; i++) for (const pnn of vnnmap) expect(c.record(pnn, Buffer.from(`q${i}`))?.data.toString()).toBe(`v${i}`);
  });
});
