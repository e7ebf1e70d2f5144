// Freeze and thaw (DESIGN §5.3.1, §5.3.3). The freeze carries the new generation; from then on
// record messages not stamped with it are dropped and those stamped with it are deferred until
// the thaw. The lease is gone at once (no store is accepted, §2.2), meta.frozen makes
// shared-access clients fall back, calls stop starting, and lock rows drain up to
// RecoveryDrainTimeout; the rest are broken (holders get ERR_LOCK_LOST). The reply tells the
// leader what it decides the quorum and the copies that count from (FreezeReply, §5.4).
// Stop, ban and inactivity take the node out of service the same way, without a generation.
import { ErrorCode, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';

export const drainTimerId = 'drain';
const drainPollMs = 5;
/** Record messages of the new generation held until the thaw; one more is dropped. */
export const deferredMessagesMax = 100_000;

interface PendingFreeze {
  generation: number;
  reply: (body: EnvelopeInit) => void;
  deadlineNs: number;
}

export interface FreezeHooks {
  /** The lease ends now (§2.2). */
  dropLease(): void;
  /** Out of service: operations parked for the lease get their refusal. */
  outOfService(): void;
  /** Thawed: parked calls re-run in the new generation. */
  thawed(): void;
}

export class Freezer {
  private pending: PendingFreeze[] = [];
  private deferred: (() => void)[] = [];

  constructor(private readonly ctx: Ctx, private readonly hooks: FreezeHooks) {}

  /**
   * Freezes every db for `generation` (checked by the caller: above what this node installed or
   * was frozen for) and answers once lock rows drained (or were broken). A freeze still draining
   * for an older generation is answered with ERR_WRONG_GENERATION: its recovery is superseded.
   */
  freeze(generation: number, reply: (body: EnvelopeInit) => void): void {
    const { ctx } = this;
    for (const p of this.pending) p.reply({ error: { code: ErrorCode.ERR_WRONG_GENERATION, message: `freeze for ${p.generation} superseded by ${generation}` } });
    this.pending = [];
    ctx.status.recoveryFreeze = generation;
    ctx.status.frozenFor = generation;
    ctx.persistState();
    // Messages deferred for an older freeze belong to a generation that will never be installed.
    this.deferred = [];
    this.takeOutOfService(generation);
    this.pending.push({ generation, reply, deadlineNs: ctx.io.clock.nowNs() + ctx.tunables.recoveryDrainTimeoutMs * 1e6 });
    this.checkDrain();
  }

  /**
   * Stops serving now: lease dropped, meta.frozen, pending calls of other nodes dropped (their
   * origins re-send after the recovery). For a freeze, a stop, a ban and inactivity alike.
   */
  takeOutOfService(generation: number): void {
    const { ctx } = this;
    this.hooks.dropLease();
    this.syncFrozenMeta();
    for (const db of ctx.dbs.all()) {
      for (const ks of db.keys.values()) {
        for (let i = ks.waiters.length - 1; i >= 0; i--) if (ks.waiters[i]!.kind === 'call') ks.waiters.splice(i, 1);
      }
    }
    ctx.log.info({ generation }, 'frozen');
    ctx.io.publish({ freeze: { generation, frozen: true } });
    this.hooks.outOfService();
  }

  /** meta.frozen of every db follows whether this node serves records (shared access reads it). */
  syncFrozenMeta(): void {
    const frozen = this.ctx.frozen() ? 1 : 0;
    for (const db of this.ctx.dbs.all()) if (db.file.meta.get().frozen !== frozen) db.file.setMeta({ frozen });
  }

  /** Drain poll: answer the freeze once no lock is held, or break what is left at the deadline. */
  checkDrain(): void {
    const { ctx } = this;
    if (this.pending.length === 0) return;
    const held = ctx.dbs.all().some((db) => db.file.locks.all().some((row) => row.holder !== ''));
    const overdue = this.pending.some((p) => ctx.io.clock.nowNs() >= p.deadlineNs);
    if (held && !overdue) {
      ctx.io.setTimer(drainTimerId, drainPollMs);
      return;
    }
    for (const db of ctx.dbs.all()) {
      const rows = db.file.locks.all();
      if (rows.some((r) => r.holder !== '')) {
        ctx.stats.inc('locks_broken', rows.filter((r) => r.holder !== '').length);
        ctx.log.warn({ db: db.info.name, locks: rows.length }, 'record locks broken by the freeze');
      }
      db.file.tx(() => db.file.locks.wipe());
      for (const ks of db.keys.values()) ks.marked = false;
    }
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reply({ freezeReply: this.freezeReply() });
  }

  /** What the leader needs from this node (§5.3.1): read after the drain, nothing changes it until the push. */
  private freezeReply(): NonNullable<EnvelopeInit['freezeReply']> {
    const { ctx } = this;
    const st = ctx.status;
    return {
      pnn: ctx.pnn,
      incarnation: ctx.incarnation,
      installedGeneration: st.installedGeneration,
      amnesiac: st.amnesiac,
      dbs: ctx.dbs.all().map((db) => {
        const m = db.file.meta.get();
        return { dbId: db.info.dbId, generation: m.generation, valid: m.valid === 1 };
      }),
      sharedAccessLeaseMs: ctx.tunables.sharedAccessLeaseMs,
      leaseDriftMarginMs: ctx.tunables.leaseDriftMarginMs,
      witness: ctx.witness,
      stopped: st.stopped,
      banned: st.banned(ctx.io.clock.nowNs()),
      inactive: st.inactive,
    };
  }

  /** A record message of the freeze's generation arrived while frozen: run it after the thaw. */
  defer(run: () => void): boolean {
    if (this.deferred.length >= deferredMessagesMax) return false;
    this.deferred.push(run);
    return true;
  }

  /** Thaws (the caller checked the generation): parked calls re-run, deferred messages are delivered. */
  thaw(): void {
    const { ctx } = this;
    ctx.io.cancelTimer(drainTimerId);
    ctx.status.recoveryFreeze = 0;
    ctx.status.frozenFor = 0;
    ctx.status.joined = true;
    ctx.persistState();
    this.syncFrozenMeta();
    // Calls this node had in flight belonged to the old generation: start them again.
    for (const db of ctx.dbs.all()) for (const ks of db.keys.values()) ks.inflight = undefined;
    ctx.log.info({ generation: ctx.vnn.generation }, 'thawed');
    ctx.io.publish({ freeze: { generation: ctx.vnn.generation, frozen: false } });
    const deferred = this.deferred;
    this.deferred = [];
    for (const run of deferred) run();
    this.hooks.thawed();
  }
}
