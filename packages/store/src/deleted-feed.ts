// The vacuum feed (DESIGN §4.1): (key, rsn) appended in the transaction that writes a tombstone;
// seq from AUTOINCREMENT is never reused; epoch names the db's wipe, so a reader restarts its cursor.
import type { Database, Statement } from 'better-sqlite3';

export interface DeletedEntry {
  seq: number;
  key: Buffer;
  rsn: number;
  epoch: number;
}

export class DeletedFeed {
  private readonly appendStmt: Statement<[Uint8Array, number, number]>;
  private readonly appendAllStmt: Statement<[number]>;
  private readonly sinceStmt: Statement<[number, number], DeletedEntry>;
  private readonly trimStmt: Statement<[number]>;
  private readonly trimSomeStmt: Statement<[number, number]>;
  private readonly countStmt: Statement<[], { n: number }>;
  private readonly lastStmt: Statement<[], { n: number | null }>;

  constructor(private readonly db: Database) {
    this.appendStmt = db.prepare('INSERT INTO deleted (key, rsn, epoch) VALUES (?, ?, ?)');
    this.appendAllStmt = db.prepare('INSERT INTO deleted (key, rsn, epoch) SELECT key, rsn, ? FROM records WHERE length(data) = 0 ORDER BY key');
    this.sinceStmt = db.prepare('SELECT seq, key, rsn, epoch FROM deleted WHERE seq > ? ORDER BY seq LIMIT ?');
    this.trimStmt = db.prepare('DELETE FROM deleted WHERE seq <= ?');
    this.trimSomeStmt = db.prepare('DELETE FROM deleted WHERE seq IN (SELECT seq FROM deleted WHERE seq <= ? ORDER BY seq LIMIT ?)');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM deleted');
    this.lastStmt = db.prepare("SELECT seq AS n FROM sqlite_sequence WHERE name = 'deleted'");
  }

  /** The highest seq ever given (AUTOINCREMENT's counter: it stays when entries are trimmed). */
  lastSeq(): number {
    return this.lastStmt.get()?.n ?? 0;
  }

  append(key: Uint8Array, rsn: number, epoch: number): void {
    this.appendStmt.run(key, rsn, epoch);
  }

  /** Every tombstone of the db at its rsn (a recovery leader's install: it masters them all). */
  appendTombstones(epoch: number): void {
    this.appendAllStmt.run(epoch);
  }

  since(cursor: number, limit: number): DeletedEntry[] {
    return this.sinceStmt.all(cursor, limit);
  }

  trimThrough(seq: number): void {
    this.trimStmt.run(seq);
  }

  /** Trims the oldest entries through seq, at most limit of them; returns how many went. */
  trimSome(seq: number, limit: number): number {
    return this.trimSomeStmt.run(seq, limit).changes;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  wipe(): void {
    this.db.exec('DELETE FROM deleted');
  }
}
