// The merge of a volatile db's copies during recovery (DESIGN §5.3.2, CTDB's recdb_add_traverse).
// Per key: the highest rsn wins; on equal rsn the copy pulled from the node its own header names
// as dmaster is preferred; otherwise CTDB's rule: the incoming copy replaces the kept one only if
// the kept one names the leader as dmaster. Tombstones take part, and a tombstone that wins is
// pushed as a tombstone (DESIGN §5.3.2 drops it): a recovery that fails after some pushes leaves
// copies of the old generation that still count (§5.4), and without the tombstone in the pushed
// copies the next merge would take an older copy with data — a deleted record back. The leader's
// vacuumd then vacuums those tombstones. The result is pushed with rsn unchanged, dmaster =
// leader and MIGRATED_WITH_DATA (the leader's install adds rsn + 1, so its copy is strictly
// newest, §2.1 rule 5).
import { RecordFlag } from '@ctdbng/protocol';

/** A copy of one record as pulled from node `from`. */
export interface Copy {
  key: Uint8Array;
  rsn: number;
  dmaster: number;
  flags: number;
  data: Uint8Array;
  from: number;
}

export interface MergedRecord {
  key: Uint8Array;
  rsn: number;
  dmaster: number;
  flags: number;
  data: Uint8Array;
}

/** True when `incoming` replaces `kept` (both copies of the same key). */
export function replaces(kept: Copy, incoming: Copy, leader: number): boolean {
  if (incoming.rsn !== kept.rsn) return incoming.rsn > kept.rsn;
  const incomingFromDmaster = incoming.dmaster === incoming.from;
  const keptFromDmaster = kept.dmaster === kept.from;
  if (incomingFromDmaster !== keptFromDmaster) return incomingFromDmaster;
  return kept.dmaster === leader;
}

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** Accumulates copies (in any order) and yields the merged records. */
export class Merger {
  private readonly kept = new Map<string, Copy>();
  private copies = 0;

  constructor(readonly leader: number) {}

  add(copy: Copy): void {
    this.copies += 1;
    const k = keyString(copy.key);
    const kept = this.kept.get(k);
    if (kept === undefined || replaces(kept, copy, this.leader)) this.kept.set(k, copy);
  }

  get copiesSeen(): number {
    return this.copies;
  }

  get keys(): number {
    return this.kept.size;
  }

  /** The records to push, winning tombstones included, owned by the leader. Key order. */
  result(): MergedRecord[] {
    const out: MergedRecord[] = [];
    for (const c of this.kept.values()) {
      out.push({ key: c.key, rsn: c.rsn, dmaster: this.leader, flags: c.flags | RecordFlag.MIGRATED_WITH_DATA, data: c.data });
    }
    out.sort((a, b) => Buffer.compare(a.key, b.key));
    return out;
  }
}

/** The merge of a list of copies (for tests and small dbs). */
export function mergeCopies(copies: Iterable<Copy>, leader: number): MergedRecord[] {
  const m = new Merger(leader);
  for (const c of copies) m.add(c);
  return m.result();
}
