// The vacuum feed as vacuumd reads it (DESIGN §4.1): entries after a cursor, the wipe epoch,
// trimming what vacuumd stored; and FeedGrew events (debounced) so vacuumd looks at once.
import { ErrorCode, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';

export const feedGrewTimerId = 'feed-grew';
const feedGrewDelayMs = 10;
export const deletedSinceLimitMax = 100_000;

type Reply = (body: EnvelopeInit) => void;

export class FeedNotifier {
  private readonly grown = new Set<number>();

  constructor(private readonly ctx: Ctx) {}

  /** dbd appended to the feed of dbId; publish once per short window. */
  note(dbId: number): void {
    if (this.grown.size === 0) this.ctx.io.setTimer(feedGrewTimerId, feedGrewDelayMs);
    this.grown.add(dbId);
  }

  flush(): void {
    for (const dbId of this.grown) this.ctx.io.publish({ feedGrew: { dbId } });
    this.grown.clear();
  }
}

export function deletedSince(ctx: Ctx, m: BodyOf<'deletedSince'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  const limit = Math.max(1, Math.min(m.limit || 1000, deletedSinceLimitMax));
  const entries = db.file.feed.since(Number(m.cursor), limit);
  reply({
    deletedBatch: {
      entries: entries.map((e) => ({ seq: e.seq, key: e.key, rsn: e.rsn })),
      epoch: db.file.meta.get().wipe_epoch,
      lastSeq: db.file.feed.lastSeq(),
    },
  });
}

/** Feed entries trimmed per transaction: an ack of a whole page (4,000) held the file for ms. */
export const trimEntriesPerSlice = 256;

export function ackDeleted(ctx: Ctx, m: BodyOf<'ackDeleted'>, reply: Reply): void {
  const db = ctx.dbs.get(m.dbId);
  if (db === undefined) return reply({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: `no db with id 0x${m.dbId.toString(16)}` } });
  const seq = Number(m.seq);
  // A slice at a time (slices.ts): the oldest entries first, so what is left is always a suffix.
  ctx.slices.repeat(
    () => db.file.tx(() => db.file.feed.trimSome(seq, trimEntriesPerSlice)) === trimEntriesPerSlice,
    () => reply({ ok: {} }),
  );
}
