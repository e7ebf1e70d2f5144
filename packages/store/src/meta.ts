// The meta row of a db file (DESIGN §8, §2.2): identity, generation, frozen, valid, and the
// shared-access fence (incarnation + lease_until_ns on host CLOCK_MONOTONIC). Written in place.
import type { Database, Statement } from 'better-sqlite3';

export interface Meta {
  db_id: number;
  name: string;
  persistent: number;
  pnn: number;
  generation: number;
  frozen: number;
  valid: number;
  incarnation: number;
  lease_until_ns: number;
  lock_lease_ms: number;
  wipe_epoch: number;
}

export type MetaUpdate = Partial<Omit<Meta, 'db_id' | 'name' | 'persistent'>>;

const updatable = ['pnn', 'generation', 'frozen', 'valid', 'incarnation', 'lease_until_ns', 'lock_lease_ms', 'wipe_epoch'] as const;

export class MetaRow {
  private readonly getStmt: Statement<[], Meta>;
  private readonly setLeaseStmt: Statement<[number]>;
  private readonly updateStmts = new Map<string, Statement>();

  constructor(private readonly db: Database, identity: { dbId: number; name: string; persistent: boolean; pnn: number }) {
    db.prepare('INSERT OR IGNORE INTO meta (id, db_id, name, persistent, pnn) VALUES (0, ?, ?, ?, ?)').run(
      identity.dbId, identity.name, identity.persistent ? 1 : 0, identity.pnn);
    this.getStmt = db.prepare('SELECT db_id, name, persistent, pnn, generation, frozen, valid, incarnation, lease_until_ns, lock_lease_ms, wipe_epoch FROM meta WHERE id = 0');
    this.setLeaseStmt = db.prepare('UPDATE meta SET lease_until_ns = ? WHERE id = 0');
  }

  get(): Meta {
    return this.getStmt.get()!;
  }

  set(update: MetaUpdate): void {
    const cols = updatable.filter((c) => update[c] !== undefined);
    if (cols.length === 0) return;
    const sig = cols.join(',');
    let stmt = this.updateStmts.get(sig);
    if (stmt === undefined) {
      stmt = this.db.prepare(`UPDATE meta SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = 0`);
      this.updateStmts.set(sig, stmt);
    }
    stmt.run(Object.fromEntries(cols.map((c) => [c, update[c]])));
  }

  /** The hot path of lease renewal: one column. */
  setLease(leaseUntilNs: number): void {
    this.setLeaseStmt.run(leaseUntilNs);
  }
}
