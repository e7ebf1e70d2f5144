// The record flow of DESIGN §2.1 for one key: serve the FIFO of waiters in order. A waiter is a
// local fetch_lock or fetch, or a call from another node deferred here. Local access when this
// node is dmaster (step 2); otherwise one call for all local waiters (step 3); calls from other
// nodes are served (migrated away, step 4), redirected (hop + 1), or deferred during a hand-over.
import { lmasterOf } from '@ctdbng/common';
import type { StoredRecord } from '@ctdbng/store';
import type { Ctx } from '../ctx.js';
import type { DbState } from '../databases.js';
import { releaseIfIdle, type CallWaiter, type KeyState, type LocalWaiter } from './key-state.js';
import { clientHolder, migrationHolder, takeLock, takeLockIfHere, type TakeResult } from '../locks/record-lock.js';
import { brokenInvariant, migrateOut } from './migrate.js';

export interface FlowHooks {
  /** Keys waiting for the lease (§2.2) to be renewed. */
  parkForLease(db: DbState, ks: KeyState): void;
  /** Re-check a lock held by a shared-access client later. */
  pollLock(db: DbState, ks: KeyState): void;
}

/** Serves the waiters of one key as far as possible; returns when the head must wait. */
export function pump(ctx: Ctx, hooks: FlowHooks, db: DbState, ks: KeyState): void {
  while (ks.waiters.length > 0) {
    if (!ctx.serving()) {
      hooks.parkForLease(db, ks);
      return;
    }
    const head = ks.waiters[0]!;
    const progressed = takesLock(ctx, head) ? serveLocking(ctx, hooks, db, ks, head) : serveHead(ctx, hooks, db, ks, head);
    if (!progressed) return;
  }
  if (ks.marked) {
    db.file.tx(() => db.file.locks.unmark(ks.key));
    ks.marked = false;
  }
  releaseIfIdle(db.keys, ks);
}

function serveHead(ctx: Ctx, hooks: FlowHooks, db: DbState, ks: KeyState, head: LocalWaiter | CallWaiter): boolean {
  const rec = db.file.records.get(ks.key);
  const here = rec !== undefined && rec.dmaster === ctx.pnn;
  return here ? serveHere(ctx, hooks, db, ks, head, rec) : serveElsewhere(ctx, db, ks, head, rec);
}

/** A local fetch_lock, or another node's call (not our own call come back): served under the record lock. */
function takesLock(ctx: Ctx, head: LocalWaiter | CallWaiter): boolean {
  return head.kind === 'lock' || (head.kind === 'call' && head.call.origin !== ctx.pnn);
}

/**
 * A head that needs the record lock: serveHead's read and serveHere's lock in one transaction
 * (the common case of the ZeroMQ path and of a migration's dmaster: the record is here and free).
 */
function serveLocking(ctx: Ctx, hooks: FlowHooks, db: DbState, ks: KeyState, head: LocalWaiter | CallWaiter): boolean {
  const holder = head.kind === 'lock' ? clientHolder(head.clientId) : migrationHolder;
  const taken = takeLockIfHere(ctx, db, ks.key, holder, head.kind === 'lock' ? head.pid : 0);
  if ('elsewhere' in taken) return serveElsewhere(ctx, db, ks, head, taken.record);
  if (!taken.ok) {
    waitForLock(ctx, hooks, db, ks, taken);
    return false;
  }
  ks.waiters.shift();
  if (head.kind !== 'call') {
    grant(ctx, db, head, taken, taken.record!);
  } else {
    ctx.stats.inc('calls_served_remote');
    migrateOut(ctx, db, ks.key, taken.record!, taken.token, head.call.origin, head.call.callId);
  }
  return true;
}

/** This node is dmaster: grant the lock, answer a read, or migrate to a caller. */
function serveHere(ctx: Ctx, hooks: FlowHooks, db: DbState, ks: KeyState, head: LocalWaiter | CallWaiter, rec: StoredRecord): boolean {
  if (head.kind === 'fetch') {
    ks.waiters.shift();
    ctx.io.sendToClient(head.clientId, {
      requestId: head.requestId,
      fetchReply: { found: rec.data.length > 0, header: { rsn: rec.rsn, dmaster: rec.dmaster, flags: rec.flags }, data: rec.data },
    });
    return true;
  }
  if (head.kind === 'call' && head.call.origin === ctx.pnn) {
    // Our own call came back after the record reached us: nothing left to do for it.
    ks.waiters.shift();
    return true;
  }
  const holder = head.kind === 'lock' ? clientHolder(head.clientId) : migrationHolder;
  const taken = takeLock(ctx, db, ks.key, holder, head.kind === 'lock' ? head.pid : 0);
  if (!taken.ok) {
    waitForLock(ctx, hooks, db, ks, taken);
    return false;
  }
  ks.waiters.shift();
  if (head.kind === 'lock') {
    grant(ctx, db, head, taken, rec);
  } else if (head.kind === 'call') {
    ctx.stats.inc('calls_served_remote');
    migrateOut(ctx, db, ks.key, taken.record ?? rec, taken.token, head.call.origin, head.call.callId);
  }
  return true;
}

function grant(ctx: Ctx, db: DbState, w: LocalWaiter, taken: Extract<TakeResult, { ok: true }>, rec: StoredRecord): void {
  const r = taken.record ?? rec;
  ctx.stats.fetchLockSeconds.observe((ctx.io.clock.nowNs() - w.sinceNs) / 1e9, { db: db.info.name });
  ctx.io.sendToClient(w.clientId, {
    requestId: w.requestId,
    fetchLockReply: {
      header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags },
      data: r.data,
      token: taken.token,
      leaseMs: ctx.tunables.lockLeaseSeconds * 1000,
    },
  });
}

/** The head waits for a lock held by another: mark the key so shared access leaves it to us. */
function waitForLock(ctx: Ctx, hooks: FlowHooks, db: DbState, ks: KeyState, taken: Extract<TakeResult, { ok: false }>): void {
  if (!ks.marked) {
    db.file.tx(() => db.file.locks.mark(ks.key));
    ks.marked = true;
    ctx.stats.inc('lock_waits');
  }
  // A holder on the ZeroMQ path tells us when it unlocks; anybody else is polled with backoff.
  if (!taken.row.holder.startsWith('dbd:')) hooks.pollLock(db, ks);
}

/** This node is not dmaster: start the call for local waiters, or pass a remote call on. */
function serveElsewhere(ctx: Ctx, db: DbState, ks: KeyState, head: LocalWaiter | CallWaiter, rec: StoredRecord | undefined): boolean {
  const lmaster = lmasterOf(ks.key, ctx.vnn.pnns);
  if (rec === undefined && lmaster === ctx.pnn) {
    // Step 3: the lmaster without the record creates it; the loop then serves from here.
    db.file.createAutomatic(ks.key, ctx.pnn);
    ctx.feedGrew(db.info.dbId);
    ctx.stats.inc('records_created');
    return true;
  }
  if (ks.inflight !== undefined) {
    // Our call is in flight and a hand-over to us may be on its way: a node waits for it, with
    // the calls queued behind. Not the lmaster: it knows where the record is, and a call it held
    // back could be the one the node its own call waits at is waiting for (two deferred calls
    // waiting for each other for ever: found by the simulation, seed 1099).
    if (lmaster === ctx.pnn) passQueuedCalls(ctx, db, ks, rec!);
    return false;
  }
  if (head.kind === 'call') {
    ks.waiters.shift();
    if (head.call.origin === ctx.pnn) return true; // our own stale call: the local waiters start a new one
    if (lmaster !== ctx.pnn) redirect(ctx, head, lmaster);
    else redirectFromLmaster(ctx, db, head, rec!);
    return true;
  }
  startCall(ctx, db, ks, callTarget(ctx, lmaster, rec));
  return false;
}

/**
 * The lmaster with a call of its own in flight passes every call queued here on to the dmaster
 * it has recorded now, in their order. Its own call among them came back: the record moved on
 * after the call left, and the node it reached redirected it to the lmaster; left in the queue
 * behind our local waiters (who wait for this very call) it would wait for itself for ever.
 * (Found by the cluster harness: test/record-flow.) Another node's call held back here could be
 * the one that node needs before it serves the call ours waits for.
 */
function passQueuedCalls(ctx: Ctx, db: DbState, ks: KeyState, rec: StoredRecord): void {
  const inflight = ks.inflight!;
  const calls = ks.waiters.filter((w): w is CallWaiter => w.kind === 'call');
  if (calls.length === 0) return;
  ks.waiters.splice(0, ks.waiters.length, ...ks.waiters.filter((w) => w.kind !== 'call'));
  for (const w of calls) {
    if (w.call.origin === ctx.pnn) {
      if (w.call.callId !== inflight.callId) continue; // an older call of ours: the one in flight serves our waiters
      inflight.to = rec.dmaster;
    }
    redirectFromLmaster(ctx, db, w, rec);
  }
}

/** The lmaster sends a call on to the dmaster it recorded, unless the call came back unchanged (§2.1.9). */
function redirectFromLmaster(ctx: Ctx, db: DbState, w: CallWaiter, rec: StoredRecord): void {
  if (ctx.redirects.bouncedBack(w.call.origin, Number(w.call.callId), rec)) {
    brokenInvariant(ctx, db, 'call redirected back to the lmaster at an unchanged rsn: a lost hand-over', { origin: w.call.origin, rsn: rec.rsn, dmaster: rec.dmaster });
    return;
  }
  redirect(ctx, w, rec.dmaster);
}

/** Where a call starts (§2.1.3): the dmaster our copy names, else the lmaster; the lmaster asks the dmaster it recorded. */
function callTarget(ctx: Ctx, lmaster: number, rec: StoredRecord | undefined): number {
  if (lmaster === ctx.pnn) return rec!.dmaster;
  if (rec !== undefined && ctx.isMember(rec.dmaster)) return rec.dmaster;
  return lmaster;
}

function startCall(ctx: Ctx, db: DbState, ks: KeyState, to: number): void {
  const callId = ctx.nextCallId();
  ks.inflight = { callId, sentNs: ctx.io.clock.nowNs(), to };
  ctx.stats.inc('calls_started');
  ctx.sendNode(to, { callRequest: { dbId: db.info.dbId, key: ks.key, origin: ctx.pnn, hopcount: 0, callId } });
}

function redirect(ctx: Ctx, w: CallWaiter, to: number): void {
  const hopcount = w.call.hopcount + 1;
  ctx.stats.inc('redirects');
  if (hopcount >= ctx.tunables.hopcountWarnCount && hopcount % ctx.tunables.hopcountWarnCount === 0) {
    ctx.stats.inc('high_hopcounts');
    ctx.log.warn({ dbId: w.call.dbId, origin: w.call.origin, hopcount, to }, 'high hopcount');
  }
  ctx.sendNode(to, { callRequest: { dbId: w.call.dbId, key: w.call.key, origin: w.call.origin, hopcount, callId: w.call.callId } });
}
