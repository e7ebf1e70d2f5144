// Scenarios of the record flow (DESIGN §2.1–2.3, §6) on three dbd cores wired in memory: the
// headers each node's store holds, the statistics counters, and the invariants after every step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { lmasterOf } from '@ctdbng/common';
import { bodyOf, keyBytesMax, pnnAll, recordBytesMax, type Envelope } from '@ctdbng/protocol';
import { RecordFlags, SharedAccessDb } from '@ctdbng/store';
import { sweepIntervalMs } from '../src/core/dbd-core.js';
import { Cluster, keyWithLmaster, startCluster, testSeed } from './harness.js';

const vnnmap = [0, 1, 2];
const lm = (key: Buffer): number => lmasterOf(key, vnnmap);
const text = (b: Uint8Array): string => Buffer.from(b).toString();

/** Throws unless every key has at most one dmaster copy and it has strictly the highest rsn (§2.1.5). */
function checkDmasterNewest(c: Cluster, keys: Buffer[]): void {
  for (const key of keys) {
    const copies = c.copies(key);
    const claimers = copies.filter((x) => x.rec.dmaster === x.pnn);
    if (claimers.length > 1) throw new Error(`key ${key}: nodes ${claimers.map((x) => x.pnn)} all claim to be dmaster`);
    const d = claimers[0];
    if (d === undefined) continue;
    for (const o of copies) {
      if (o.pnn !== d.pnn && o.rec.rsn >= d.rec.rsn) throw new Error(`key ${key}: dmaster ${d.pnn} has rsn ${d.rec.rsn}, node ${o.pnn} has ${o.rec.rsn}`);
    }
  }
}

/** fetch_lock → store(data) [→ unlock] as a chain of replies; done() when the lock is released. */
function writeChain(c: Cluster, pnn: number, clientId: string, key: Buffer, data: Buffer | undefined, done: () => void, unlockInStore = true): void {
  c.fetchLock(pnn, clientId, key, (env) => {
    const token = Number(bodyOf(env, 'fetchLockReply').token);
    c.store(pnn, clientId, key, token, data, unlockInStore, (st) => {
      expect(st.body).toBe('ok');
      if (unlockInStore) return done();
      c.request(pnn, clientId, { unlock: { dbId: c.dbId, key, token } }, (u) => {
        expect(u.body).toBe('ok');
        done();
      });
    });
  });
}

/** Every record of a traverse (cluster-wide or local) from node pnn, batch by batch. */
function traverse(c: Cluster, pnn: number, local: boolean): { key: string; rsn: number; dmaster: number; data: string }[] {
  const out: { key: string; rsn: number; dmaster: number; data: string }[] = [];
  let p = c.call(pnn, 'traverser', { traverseStart: { dbId: c.dbId, local } });
  for (;;) {
    const b = p.body('traverseBatch');
    for (const r of b.records) out.push({ key: text(r.key!), rsn: Number(r.header!.rsn), dmaster: r.header!.dmaster ?? 0, data: text(r.data!) });
    if (b.done) return out;
    p = c.call(pnn, 'traverser', { traverseNext: { traverseId: b.traverseId } });
  }
}

describe('record flow', () => {
  test('a new key asked on node 0 whose lmaster is node 1 is created on node 1 and migrated to node 0', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    const fl = c.fetchLock(0, 'a', key);
    c.runUntilIdle();
    const r = fl.body('fetchLockReply');
    expect(r.header).toMatchObject({ rsn: 2, dmaster: 0 });
    expect(r.data.length).toBe(0);
    expect(c.record(0, key)).toMatchObject({ rsn: 2, dmaster: 0 });
    expect(c.record(0, key)!.flags & RecordFlags.MIGRATED_WITH_DATA).toBe(0);
    expect(c.record(1, key)).toMatchObject({ rsn: 1, dmaster: 0 });
    expect(c.record(2, key)).toBeUndefined();
    expect(c.stat('records_created', 1)).toBe(1);

    c.store(0, 'a', key, Number(r.token), Buffer.from('v0'));
    c.runUntilIdle();
    expect(c.record(0, key)).toMatchObject({ rsn: 3, dmaster: 0, data: Buffer.from('v0') });
    expect(c.record(1, key)!.dmaster).toBe(0);

    // Moving on with data sets MIGRATED_WITH_DATA on the new dmaster.
    c.write(2, 'b', key, Buffer.from('v2'));
    expect(c.record(2, key)).toMatchObject({ rsn: 4, dmaster: 2, data: Buffer.from('v2') });
    expect(c.record(2, key)!.flags & RecordFlags.MIGRATED_WITH_DATA).toBe(RecordFlags.MIGRATED_WITH_DATA);
    expect(c.record(0, key)).toMatchObject({ rsn: 3, dmaster: 2 });
    expect(c.record(1, key)).toMatchObject({ rsn: 3, dmaster: 2 });
  });

  test('a second fetch_lock on the dmaster sends no node message', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(0, 'a', key, Buffer.from('x'));
    const sent = c.stat('node_record_messages_sent');
    const local = c.stat('fetch_lock_local', 0);
    for (let i = 0; i < 100; i++) c.write(0, 'a', key, Buffer.from(`x${i}`));
    expect(c.stat('node_record_messages_sent')).toBe(sent);
    expect(c.stat('fetch_lock_local', 0)).toBe(local + 100);
    expect(c.record(0, key)).toMatchObject({ rsn: 3, dmaster: 0, data: Buffer.from('x99') });
  });

  test('a record mastered on node 2 with lmaster 1 requested from node 0 migrates through the lmaster and the rsn rises at every migration', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'a', key, Buffer.from('from2'));
    expect(c.record(2, key)).toMatchObject({ rsn: 3, dmaster: 2 });

    const redirects = c.stat('redirects', 1);
    const h0 = c.write(0, 'b', key, Buffer.from('from0'));
    expect(h0).toEqual({ rsn: 4, dmaster: 0 });
    expect(c.stat('redirects', 1)).toBe(redirects + 1); // the lmaster sent the call on to node 2
    expect(c.record(1, key)).toMatchObject({ rsn: 3, dmaster: 0, data: Buffer.from('from2') });
    expect(c.record(2, key)).toMatchObject({ rsn: 3, dmaster: 0 });
    expect(c.record(0, key)).toMatchObject({ rsn: 4, dmaster: 0, data: Buffer.from('from0') });

    let rsn = 4;
    for (const pnn of [2, 1, 0, 1, 2]) {
      const h = c.write(pnn, `c${pnn}`, key, Buffer.from(`at${pnn}`));
      expect(h).toEqual({ rsn: rsn + 1, dmaster: pnn });
      rsn++;
      checkDmasterNewest(c, [key]);
    }
  });

  test('the dmaster\'s copy always has strictly the highest rsn of all copies', () => {
    const seed = testSeed('dmaster newest');
    const c = startCluster({ seed, reorder: true });
    const keys = ['a', 'b', 'c', 'd'].map((k) => Buffer.from(k));
    let checks = 0;
    c.onStep = () => {
      checkDmasterNewest(c, keys);
      checks++;
    };
    let finished = 0;
    for (let i = 0; i < 200; i++) {
      const data = c.rng.int(4) === 0 ? undefined : Buffer.from(`v${i}`);
      writeChain(c, c.rng.int(3), `op${i}`, c.rng.pick(keys), data, () => finished++, c.rng.int(2) === 0);
      for (let n = c.rng.int(8); n > 0; n--) c.step();
    }
    c.runUntilIdle();
    expect(finished).toBe(200);
    expect(checks).toBeGreaterThan(400);
    for (const key of keys) expect(c.copies(key).filter((x) => x.rec.dmaster === x.pnn)).toHaveLength(1);
  });

  test('two clients on different nodes incrementing one counter 200 times each end at 400', () => {
    const seed = testSeed('counter');
    const c = startCluster({ seed, reorder: true });
    const key = keyWithLmaster(lm, 2);
    let done = 0;
    for (const pnn of [0, 1]) {
      let n = 0;
      const next = (): void => {
        c.fetchLock(pnn, `inc${pnn}`, key, (env) => {
          const r = bodyOf(env, 'fetchLockReply');
          const value = r.data.length === 0 ? 0 : Number(text(r.data));
          c.store(pnn, `inc${pnn}`, key, Number(r.token), Buffer.from(String(value + 1)), true, (st) => {
            expect(st.body).toBe('ok');
            if (++n < 200) next();
            else done++;
          });
        });
      };
      next();
    }
    c.onStep = () => checkDmasterNewest(c, [key]);
    c.runUntilIdle();
    expect(done).toBe(2);
    const f = c.call(2, 'reader', { fetch: { dbId: c.dbId, key } }).body('fetchReply');
    expect(text(f.data)).toBe('400');
  });

  test('local requests for one key during a migration are merged into one call', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('x'));
    const calls = c.stat('calls_started', 0);
    const locks = [0, 1, 2, 3, 4].map((i) => c.fetchLock(0, `l${i}`, key));
    c.runUntilIdle();
    expect(c.stat('calls_started', 0)).toBe(calls + 1);
    // The lock goes to the waiters in turn, each unlock handing it on without a message.
    for (const [i, p] of locks.entries()) {
      expect(locks.filter((x) => x.done)).toHaveLength(i + 1);
      c.store(0, `l${i}`, key, Number(p.body('fetchLockReply').token), Buffer.from(`l${i}`));
      c.runUntilIdle();
    }
    expect(c.stat('calls_started', 0)).toBe(calls + 1);
    expect(c.record(0, key)).toMatchObject({ rsn: 4, dmaster: 0, data: Buffer.from('l4') });
  });

  test('a call arriving during a hand-over is deferred, not redirected in circles', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(2, 'w', key, Buffer.from('x'));
    const redirects = c.stat('redirects');
    const a = c.fetchLock(0, 'a', key);
    c.deliverRequest(0, 'a');
    c.deliver(0, 1); // lmaster 1 redirects to dmaster 2
    c.deliver(1, 2); // node 2 hands the record to node 0: DmasterRequest to lmaster 1
    c.deliver(2, 1); // lmaster records node 0, DmasterReply on its way to node 0
    expect(c.queued(1, 0)).toEqual(['dmasterReply']);
    // Node 2's copy now names node 0: a client on node 2 calls node 0 directly, and the call
    // overtakes the DmasterReply (another link).
    const b = c.fetchLock(2, 'b', key);
    c.deliverRequest(2, 'b');
    expect(c.queued(2, 0)).toEqual(['callRequest']);
    c.deliver(2, 0);
    expect(c.busyLinks()).toEqual([[1, 0]]); // deferred at node 0: nothing sent on
    c.deliver(1, 0);
    c.runUntilIdle();
    expect(a.body('fetchLockReply').header).toMatchObject({ rsn: 4, dmaster: 0 });
    expect(b.done).toBe(false);
    c.store(0, 'a', key, Number(a.body('fetchLockReply').token), Buffer.from('a'));
    c.runUntilIdle();
    expect(b.body('fetchLockReply').header).toMatchObject({ rsn: 5, dmaster: 2 });
    expect(text(b.body('fetchLockReply').data)).toBe('a');
    expect(c.stat('redirects')).toBe(redirects + 1);
    expect(c.maxHopcount).toBe(1);
  });

  test('a call of the lmaster that chased a moved record back to the lmaster is sent on to the new dmaster', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('x'));
    const b = c.fetchLock(2, 'b', key);
    c.deliverRequest(2, 'b');
    c.deliver(2, 1); // lmaster 1 sends node 2's call on to dmaster 0
    const a = c.fetchLock(1, 'a', key);
    c.deliverRequest(1, 'a'); // node 1's own call to dmaster 0, behind node 2's
    expect(c.queued(1, 0)).toEqual(['callRequest', 'callRequest']);
    c.deliver(1, 0); // node 0 hands the record to node 2 (DmasterRequest to lmaster 1)
    c.deliver(1, 0); // node 1's call finds node 0 no longer dmaster: back to the lmaster
    expect(c.queued(0, 1)).toEqual(['dmasterRequest', 'callRequest']);
    c.deliver(0, 1);
    c.deliver(0, 1); // node 1's own call is back home while it is still in flight
    expect(c.queued(1, 2)).toEqual(['dmasterReply', 'callRequest']);
    c.runUntilIdle();
    expect(b.body('fetchLockReply').header).toMatchObject({ rsn: 4, dmaster: 2 });
    expect(a.done).toBe(false);
    c.store(2, 'b', key, Number(b.body('fetchLockReply').token), Buffer.from('b'));
    c.runUntilIdle();
    expect(a.body('fetchLockReply').header).toMatchObject({ rsn: 5, dmaster: 1 });
    expect(c.maxHopcount).toBe(2);
    checkDmasterNewest(c, [key]);
  });

  test('fetch of a tombstone reads as not found', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'a', key, Buffer.from('v'));
    expect(c.call(0, 'r', { fetch: { dbId: c.dbId, key } }).body('fetchReply')).toMatchObject({ found: true });
    c.write(0, 'a', key, undefined);
    expect(c.call(0, 'r', { fetch: { dbId: c.dbId, key } }).body('fetchReply').found).toBe(false);
    // From another node: the tombstone migrates like any record and still reads as not found.
    const f = c.call(2, 'r', { fetch: { dbId: c.dbId, key } }).body('fetchReply');
    expect(f.found).toBe(false);
    expect(f.header).toMatchObject({ rsn: 4, dmaster: 2 });
    expect(c.record(2, key)!.data.length).toBe(0);
  });
});

describe('calls that wait for each other', () => {
  test('the lmaster with its own call in flight passes other calls on to the dmaster it recorded, so two deferred calls never wait for each other (sim seed 1099)', () => {
    const c = startCluster({ nodes: 4 });
    const lm4 = (key: Buffer): number => lmasterOf(key, [0, 1, 2, 3]);
    const key = keyWithLmaster(lm4, 2);
    // History: node 0 held it, then node 1, then node 3. Node 0's copy names 1; node 1's names 3.
    c.write(0, 'w', key, Buffer.from('v0'));
    c.write(1, 'w', key, Buffer.from('v1'));
    c.write(3, 'w', key, Buffer.from('v3'));
    const token = (p: { body: (k: 'fetchLockReply') => { token: unknown } }): number => Number(p.body('fetchLockReply').token);
    // Node 1 asks node 3 (its copy names 3); node 3 hands the record over, via the lmaster 2.
    const a = c.fetchLock(1, 'a', key);
    c.deliverRequest(1, 'a');
    c.deliver(1, 3);
    expect(c.queued(3, 2)).toEqual(['dmasterRequest']);
    // Before the hand-over reaches the lmaster, the lmaster's client asks: its call goes to node 3.
    const l = c.fetchLock(2, 'l', key);
    c.deliverRequest(2, 'l');
    // Node 3's client asks too: node 3's copy now names node 1, so its call goes there.
    const z3 = c.fetchLock(3, 'c', key);
    c.deliverRequest(3, 'c');
    c.deliver(3, 2); // the lmaster records node 1 and passes the record on
    c.deliver(2, 3); // the lmaster's call reaches node 3, which waits for its own call: deferred there
    // Node 0's stale copy names node 1: its call goes there, ahead of node 3's.
    const z0 = c.fetchLock(0, 'z', key);
    c.deliverRequest(0, 'z');
    c.deliver(2, 1); // node 1 becomes dmaster and grants 'a'
    c.deliver(0, 1);
    c.deliver(3, 1);
    c.deliverReply(1, 'a');
    expect(a.done).toBe(true);
    // 'a' lets go: node 1 serves node 0, then sends node 3's call to the lmaster, whose own call waits at node 3.
    c.store(1, 'a', key, token(a), Buffer.from('a'));
    c.runUntilIdle();
    expect(z0.done).toBe(true);
    c.store(0, 'z', key, token(z0), Buffer.from('z'));
    c.runUntilIdle();
    expect(z3.done).toBe(true);
    c.store(3, 'c', key, token(z3), Buffer.from('c'));
    c.runUntilIdle();
    expect(l.done).toBe(true);
    c.store(2, 'l', key, token(l), Buffer.from('l'));
    c.runUntilIdle();
    expect(c.record(2, key)).toMatchObject({ dmaster: 2 });
    expect(text(c.record(2, key)!.data)).toBe('l');
  });
});

describe('record locks', () => {
  test('a lock whose holder pid dies is broken at the next lock sweep and the next waiter gets it', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 0);
    c.hello(0, 'a', 111);
    c.hello(0, 'b', 222);
    c.write(0, 'w', key, Buffer.from('x'));
    const a = c.fetchLock(0, 'a', key);
    const b = c.fetchLock(0, 'b', key);
    c.runUntilIdle();
    expect(a.done).toBe(true);
    expect(b.done).toBe(false);
    c.deadPids.add(111);
    c.advance(sweepIntervalMs);
    expect(b.body('fetchLockReply').header).toMatchObject({ dmaster: 0 });
    expect(c.stat('locks_broken', 0)).toBe(1);
    const st = c.store(0, 'a', key, Number(a.body('fetchLockReply').token), Buffer.from('late'));
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_LOCK_LOST');
  });

  test('a lock whose lease expires is broken after LockLeaseSeconds, at the lock sweep after it', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('x'));
    const a = c.fetchLock(0, 'a', key);
    const b = c.fetchLock(0, 'b', key);
    c.runUntilIdle();
    expect(a.done).toBe(true);
    c.advance(c.tunables.lockLeaseSeconds * 1000 - 100);
    expect(b.done).toBe(false);
    c.advance(100 + sweepIntervalMs);
    expect(b.done).toBe(true);
    expect(c.stat('locks_broken', 0)).toBe(1);
  });

  test('a store with a stale token fails with ERR_LOCK_LOST and writes nothing', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 2);
    c.write(0, 'w', key, Buffer.from('kept'));
    const a = c.fetchLock(0, 'a', key);
    c.runUntilIdle();
    const token = Number(a.body('fetchLockReply').token);
    expect(c.call(0, 'a', { unlock: { dbId: c.dbId, key, token } }).body('ok')).toBeDefined();
    // Released: the token holds nothing.
    const late = c.store(0, 'a', key, token, Buffer.from('lost'));
    c.runUntilIdle();
    expect(late.errorCode).toBe('ERR_LOCK_LOST');
    expect(c.record(0, key)!.data).toEqual(Buffer.from('kept'));
    // Another holder: the old token is still stale.
    const b = c.fetchLock(0, 'b', key);
    c.runUntilIdle();
    const stale = c.store(0, 'a', key, token, Buffer.from('lost'));
    const del = c.store(0, 'a', key, token, undefined);
    c.runUntilIdle();
    expect(stale.errorCode).toBe('ERR_LOCK_LOST');
    expect(del.errorCode).toBe('ERR_LOCK_LOST');
    expect(c.record(0, key)).toMatchObject({ data: Buffer.from('kept'), rsn: 3 });
    expect(c.call(0, 'b', { unlock: { dbId: c.dbId, key, token: Number(b.body('fetchLockReply').token) } }).body('ok')).toBeDefined();
  });

  test('a fetch_lock from another node waits for a shared-access client\'s lock and migrates after its unlock', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctdbng-dbd-'));
    // Shared-access clients check the lease against the host clock: virtual time starts there,
    // and a long lease keeps a slow machine's real clock from passing it during the test.
    const c = startCluster({ dir, clockStartNs: Number(process.hrtime.bigint()), tunables: { sharedAccessLeaseMs: 20_000 } });
    onTestFinished(() => {
      c.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('x'));
    const db0 = c.cores[0]!.ctx.dbs.get(c.dbId)!;
    const sa = new SharedAccessDb(db0.info.path, 0, c.cores[0]!.ctx.incarnation, process.pid);
    onTestFinished(() => sa.close());
    const held = sa.lock(key);
    if (!held.ok) throw new Error(`shared access fell back: ${held.fallback}`);
    const fl = c.fetchLock(2, 'b', key);
    c.runUntilIdle();
    c.advance(20);
    expect(fl.done).toBe(false);
    expect(db0.file.locks.get(key)).toMatchObject({ holder: `sa:${process.pid}`, pending_migration: 1 });
    expect(sa.store(key, held.token, Buffer.from('from sa'), true)).toEqual({ ok: true });
    expect(sa.lock(key)).toEqual({ ok: false, fallback: 'locked' }); // marked for the migration
    c.advance(c.tunables.lockPollMaxMs);
    expect(text(fl.body('fetchLockReply').data)).toBe('from sa');
    expect(c.record(2, key)).toMatchObject({ rsn: 4, dmaster: 2 });
    expect(sa.lock(key)).toEqual({ ok: false, fallback: 'not_dmaster' });
  });

  test('with the lease lapsed a node serves no record operation until probes are acked again', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    c.write(0, 'w', key, Buffer.from('v'));
    c.drop(1, 0);
    c.drop(2, 0);
    c.advance(c.tunables.sharedAccessLeaseMs + 100);
    expect(c.cores[0]!.ctx.leaseValid()).toBe(false);
    expect(c.cores[1]!.ctx.leaseValid()).toBe(true);
    expect(c.cores[0]!.ctx.dbs.get(c.dbId)!.file.meta.get().lease_until_ns).toBeLessThanOrEqual(c.now);
    const fl = c.fetchLock(0, 'a', key);
    const f = c.request(0, 'r', { fetch: { dbId: c.dbId, key } });
    c.runUntilIdle();
    c.advance(2000);
    expect(fl.done).toBe(false);
    expect(f.done).toBe(false);
    c.heal(1, 0);
    c.heal(2, 0);
    c.advance(c.tunables.sharedAccessLeaseMs / 2);
    expect(c.cores[0]!.ctx.leaseValid()).toBe(true);
    expect(text(fl.body('fetchLockReply').data)).toBe('v');
    expect(text(f.body('fetchReply').data)).toBe('v');
  });
});

describe('traverse', () => {
  test('cluster-wide traverse returns each live record exactly once across 3 nodes, without tombstones or stale copies', () => {
    const seed = testSeed('traverse');
    const c = startCluster({ seed, reorder: true });
    const live = new Map<string, string>();
    let done = 0;
    const run = (ops: number, op: (i: number) => void): void => {
      done = 0;
      for (let i = 0; i < ops; i++) op(i);
      c.runUntilIdle();
      expect(done).toBe(ops);
    };
    run(3000, (i) => {
      live.set(`key${i}`, `value${i}`);
      writeChain(c, c.rng.int(3), `w${i}`, Buffer.from(`key${i}`), Buffer.from(`value${i}`), () => done++);
    });
    run(300, (i) => {
      const k = `key${c.rng.int(3000)}`;
      live.delete(k);
      writeChain(c, c.rng.int(3), `d${i}`, Buffer.from(k), undefined, () => done++);
    });
    run(300, (i) => {
      const k = `key${c.rng.int(3000)}`;
      c.request(c.rng.int(3), `m${i}`, { fetch: { dbId: c.dbId, key: Buffer.from(k) } }, () => done++);
    });
    const recs = traverse(c, c.rng.int(3), false);
    const seen = new Map<string, string>();
    for (const r of recs) {
      expect(seen.has(r.key), `${r.key} returned twice`).toBe(false);
      seen.set(r.key, r.data);
    }
    expect(seen).toEqual(live);
    expect(c.stat('traverses')).toBe(1);
  });

  test('local traverse includes stale copies and tombstones with headers', () => {
    const c = startCluster();
    const stale = keyWithLmaster(lm, 1, 's');
    const gone = keyWithLmaster(lm, 1, 'g');
    c.write(2, 'a', stale, Buffer.from('old'));
    c.write(0, 'a', stale, Buffer.from('new'));
    c.write(1, 'a', gone, Buffer.from('x'));
    c.write(1, 'a', gone, undefined);
    const recs = traverse(c, 1, true);
    expect(recs).toContainEqual({ key: stale.toString(), rsn: 3, dmaster: 0, data: 'old' });
    expect(recs).toContainEqual({ key: gone.toString(), rsn: 2, dmaster: 1, data: '' });
    expect(recs).toHaveLength(2);
    expect(traverse(c, 2, true)).toEqual([{ key: stale.toString(), rsn: 3, dmaster: 0, data: 'old' }]);
    expect(traverse(c, 1, false)).toEqual([{ key: stale.toString(), rsn: 4, dmaster: 0, data: 'new' }]);
  });
});

describe('messaging and controls', () => {
  const clientMessages = (c: Cluster, pnn: number, clientId: string): Envelope[] =>
    (c.received.get(`${pnn}/${clientId}`) ?? []).filter((e) => e.body === 'clientMessage');

  test('a message to srvid S on node 2 from node 0 arrives once; a broadcast reaches every registered client', () => {
    const c = startCluster();
    const srvid = 0x5151;
    for (const [pnn, id] of [[2, 'x'], [2, 'x2'], [1, 'y'], [0, 'z']] as const) {
      c.call(pnn, id, { registerSrvid: { srvid } }).body('ok');
    }
    c.call(0, 's', { sendMessage: { destPnn: 2, srvid, data: Buffer.from('hi') } }).body('ok');
    for (const id of ['x', 'x2']) {
      const got = clientMessages(c, 2, id);
      expect(got).toHaveLength(1);
      expect(got[0]!.clientMessage).toMatchObject({ srcPnn: 0 });
      expect(text(got[0]!.clientMessage!.data!)).toBe('hi');
    }
    expect(clientMessages(c, 1, 'y')).toHaveLength(0);
    expect(clientMessages(c, 0, 'z')).toHaveLength(0);

    c.call(1, 's', { sendMessage: { destPnn: pnnAll, srvid, data: Buffer.from('all') } }).body('ok');
    for (const [pnn, id] of [[2, 'x'], [2, 'x2'], [1, 'y'], [0, 'z']] as const) {
      expect(clientMessages(c, pnn, id).filter((e) => text(e.clientMessage!.data!) === 'all')).toHaveLength(1);
    }
    c.call(2, 'x', { deregisterSrvid: { srvid } }).body('ok');
    c.call(0, 's', { sendMessage: { destPnn: 2, srvid, data: Buffer.from('again') } }).body('ok');
    expect(clientMessages(c, 2, 'x')).toHaveLength(2);
    expect(clientMessages(c, 2, 'x2')).toHaveLength(3);
  });

  test('a control with target_pnn runs on that node', () => {
    const c = startCluster();
    expect(c.call(0, 'cli', { getPnn: {}, targetPnn: 2 }).body('pnnReply').pnn).toBe(2);
    expect(c.sentBodies.get('controlForward')).toBe(1);
    expect(c.call(0, 'cli', { getPnn: {} }).body('pnnReply').pnn).toBe(0);
    expect(c.call(1, 'cli', { getVnnMap: {}, targetPnn: 0 }).body('vnnMap')).toMatchObject({ generation: c.generation, pnns: vnnmap });
    expect(c.call(0, 'cli', { getPnn: {}, targetPnn: 7 }).errorCode).toBe('ERR_UNKNOWN_NODE');
  });
});

describe('bad input', () => {
  test('a record request for an unknown db id fails with ERR_UNKNOWN_DB', () => {
    const c = startCluster();
    expect(c.call(0, 'a', { fetchLock: { dbId: c.dbId ^ 1, key: Buffer.from('k') } }).errorCode).toBe('ERR_UNKNOWN_DB');
    expect(c.call(0, 'a', { fetch: { dbId: c.dbId ^ 1, key: Buffer.from('k') } }).errorCode).toBe('ERR_UNKNOWN_DB');
    expect(c.call(0, 'a', { traverseStart: { dbId: c.dbId ^ 1 } }).errorCode).toBe('ERR_UNKNOWN_DB');
  });

  test('an empty key fails with ERR_INVALID_ARGUMENT', () => {
    const c = startCluster();
    expect(c.call(0, 'a', { fetchLock: { dbId: c.dbId, key: Buffer.alloc(0) } }).errorCode).toBe('ERR_INVALID_ARGUMENT');
    expect(c.call(0, 'a', { store: { dbId: c.dbId, key: Buffer.alloc(0), token: 1, data: Buffer.from('x') } }).errorCode).toBe('ERR_INVALID_ARGUMENT');
  });

  test('a key of keyBytesMax works and one byte more fails with ERR_KEY_TOO_LARGE', () => {
    const c = startCluster();
    expect(c.call(0, 'a', { fetchLock: { dbId: c.dbId, key: Buffer.alloc(keyBytesMax + 1, 7) } }).errorCode).toBe('ERR_KEY_TOO_LARGE');
    const key = Buffer.alloc(keyBytesMax, 7);
    c.write(lm(key) === 0 ? 1 : 0, 'a', key, Buffer.from('big key'));
    const f = c.call(2, 'r', { fetch: { dbId: c.dbId, key } }).body('fetchReply');
    expect(text(f.data)).toBe('big key');
  });

  test('a record of recordBytesMax works and one byte more fails with ERR_RECORD_TOO_LARGE', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    const fl = c.fetchLock(0, 'a', key);
    c.runUntilIdle();
    const token = Number(fl.body('fetchLockReply').token);
    const st = c.store(0, 'a', key, token, Buffer.alloc(recordBytesMax + 1, 1), false);
    c.runUntilIdle();
    expect(st.errorCode).toBe('ERR_RECORD_TOO_LARGE');
    expect(c.record(0, key)!.data.length).toBe(0);
    c.store(0, 'a', key, token, Buffer.alloc(recordBytesMax, 2));
    c.runUntilIdle();
    const f = c.call(2, 'r', { fetch: { dbId: c.dbId, key } }).body('fetchReply');
    expect(f.data.length).toBe(recordBytesMax);
    expect(c.record(2, key)!.data.length).toBe(recordBytesMax);
  });

  test('a node message with a wrong nodes hash is dropped and counted', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    const bad = c.stat('bad_frames', 1);
    const node = { srcPnn: 0, generation: c.generation, incarnation: c.cores[0]!.ctx.incarnation, seq: 999, nodesHash: (c.nodes.hash + 1) >>> 0 };
    c.inject(1, { node, callRequest: { dbId: c.dbId, key, origin: 0, hopcount: 0, callId: 1 } });
    c.runUntilIdle();
    expect(c.stat('bad_frames', 1)).toBe(bad + 1);
    expect(c.record(1, key)).toBeUndefined();
    expect(c.sentBodies.get('nodeError')).toBe(1);
  });

  test('a record message of another generation is dropped and counted', () => {
    const c = startCluster();
    const key = keyWithLmaster(lm, 1);
    const node = { srcPnn: 0, generation: c.generation + 1, incarnation: c.cores[0]!.ctx.incarnation, seq: 999, nodesHash: c.nodes.hash };
    c.inject(1, { node, callRequest: { dbId: c.dbId, key, origin: 0, hopcount: 0, callId: 1 } });
    c.inject(2, { node, dmasterReply: { dbId: c.dbId, key, header: { rsn: 5, dmaster: 2, flags: 0 }, data: Buffer.from('x'), callId: 1 } });
    c.runUntilIdle();
    expect(c.stat('wrong_generation', 1)).toBe(1);
    expect(c.stat('wrong_generation', 2)).toBe(1);
    expect(c.record(1, key)).toBeUndefined();
    expect(c.record(2, key)).toBeUndefined();
    expect(c.stat('node_record_messages_sent')).toBe(0);
  });
});
