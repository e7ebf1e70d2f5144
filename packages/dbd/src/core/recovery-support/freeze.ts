// Freeze and thaw (DESIGN §5.3.1, §5.3.3): the freeze carries the new generation — from then on
// record messages not stamped with it are dropped and those stamped with it are deferred until
// the thaw; meta.frozen makes shared-access clients fall back; calls stop starting; lock rows
// drain up to RecoveryDrainTimeout, then the rest are broken (holders get ERR_LOCK_LOST).
import type { EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';

export const drainTimerId = 'drain';
const drainPollMs = 5;
/** Record messages of the new generation held until the thaw; one more is dropped. */
export const deferredMessagesMax = 100_000;

interface PendingFreeze {
  reply: (body: EnvelopeInit) => void;
  deadlineNs: number;
}

export class Freezer {
  private pending: PendingFreeze[] = [];
  private deferred: (() => void)[] = [];

  constructor(private readonly ctx: Ctx, private readonly onThawed: () => void) {}

  /** Freezes every db for `generation` and answers once lock rows drained (or were broken). */
  freeze(generation: number, reply: (body: EnvelopeInit) => void): void {
    this.freezeNow(generation);
    this.pending.push({ reply, deadlineNs: this.ctx.io.nowNs() + this.ctx.tunables.recoveryDrainTimeoutMs * 1e6 });
    this.checkDrain();
  }

  /** Frozen without a recovery (inactive, stopped, banned): nothing of any generation is taken. */
  freezeNow(generation: number): void {
    const { ctx } = this;
    const was = ctx.status.frozen;
    ctx.status.frozen = true;
    ctx.status.freezeGeneration = generation;
    this.deferred = [];
    for (const db of ctx.dbs.all()) {
      db.file.setMeta({ frozen: 1 });
      // Calls of the old generation parked here will be re-sent by their origins after the thaw.
      for (const ks of db.keys.values()) {
        for (let i = ks.waiters.length - 1; i >= 0; i--) if (ks.waiters[i]!.kind === 'call') ks.waiters.splice(i, 1);
      }
    }
    if (!was) {
      ctx.log.info({ generation }, 'frozen');
      ctx.io.publish({ freeze: { generation, frozen: true } });
    }
  }

  /** Drain poll: answer the freeze once no lock is held, or break what is left at the deadline. */
  checkDrain(): void {
    const { ctx } = this;
    if (this.pending.length === 0) return;
    const held = ctx.dbs.all().some((db) => db.file.locks.all().some((row) => row.holder !== ''));
    const overdue = this.pending.some((p) => ctx.io.nowNs() >= p.deadlineNs);
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
    for (const p of pending) p.reply({ ok: {} });
  }

  /** A record message of the freeze's generation arrived while frozen: run it after the thaw. */
  defer(run: () => void): boolean {
    if (this.deferred.length >= deferredMessagesMax) return false;
    this.deferred.push(run);
    return true;
  }

  /** Thaws every db; parked calls re-run in the new generation, deferred messages are delivered. */
  thaw(): void {
    const { ctx } = this;
    ctx.io.cancelTimer(drainTimerId);
    ctx.status.frozen = false;
    for (const db of ctx.dbs.all()) {
      db.file.setMeta({ frozen: 0 });
      // Calls this node had in flight belonged to the old generation: start them again.
      for (const ks of db.keys.values()) ks.inflight = undefined;
    }
    ctx.log.info({ generation: ctx.vnn.generation }, 'thawed');
    ctx.io.publish({ freeze: { generation: ctx.vnn.generation, frozen: false } });
    const deferred = this.deferred;
    this.deferred = [];
    for (const run of deferred) run();
    this.onThawed();
  }
}
