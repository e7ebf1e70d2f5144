// Record locks as rows (DESIGN §2.2): one table serves dbd and shared-access clients.
// A row present means "not free": either held (holder != '') or only marked for a waiting
// migration/waiter (holder = '', pending_migration = 1), so shared access falls back to dbd.
import type { Database, Statement } from 'better-sqlite3';

export interface LockRow {
  key: Buffer;
  holder: string;
  pid: number;
  expires_ns: number;
  token: number;
  pending_migration: number;
}

export interface LockRequest {
  holder: string;
  pid: number;
  expiresNs: number;
  token: number;
}

export class LocksTable {
  /** Read raw (an array), as RecordsTable.get: cheaper than better-sqlite3's row objects. */
  private readonly getStmt: Statement<[Uint8Array], [Buffer, string, number, number, number, number]>;
  private readonly insertStmt: Statement<[Uint8Array, string, number, number, number]>;
  private readonly takeMarkedStmt: Statement<[string, number, number, number, Uint8Array]>;
  private readonly handOverStmt: Statement<[string, number, number, number, Uint8Array, number]>;
  private readonly releaseStmt: Statement<[Uint8Array, number]>;
  private readonly releaseMarkedStmt: Statement<[Uint8Array, number]>;
  private readonly renewStmt: Statement<[number, Uint8Array, number]>;
  private readonly markStmt: Statement<[Uint8Array]>;
  private readonly unmarkStmt: Statement<[Uint8Array]>;
  private readonly clearMarkStmt: Statement<[Uint8Array]>;
  private readonly breakStmt: Statement<[Uint8Array, number]>;
  private readonly allStmt: Statement<[], LockRow>;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare<[Uint8Array], [Buffer, string, number, number, number, number]>('SELECT key, holder, pid, expires_ns, token, pending_migration FROM locks WHERE key = ?').raw(true);
    this.insertStmt = db.prepare('INSERT INTO locks (key, holder, pid, expires_ns, token, pending_migration) VALUES (?, ?, ?, ?, ?, 0)');
    this.takeMarkedStmt = db.prepare("UPDATE locks SET holder = ?, pid = ?, expires_ns = ?, token = ? WHERE key = ? AND holder = ''");
    this.handOverStmt = db.prepare('UPDATE locks SET holder = ?, pid = ?, expires_ns = ?, token = ? WHERE key = ? AND token = ?');
    this.releaseStmt = db.prepare('DELETE FROM locks WHERE key = ? AND token = ? AND pending_migration = 0');
    this.releaseMarkedStmt = db.prepare("UPDATE locks SET holder = '', pid = 0, expires_ns = 0, token = 0 WHERE key = ? AND token = ? AND holder != ''");
    this.renewStmt = db.prepare("UPDATE locks SET expires_ns = ? WHERE key = ? AND token = ? AND holder != ''");
    this.markStmt = db.prepare("INSERT INTO locks (key, holder, pid, expires_ns, token, pending_migration) VALUES (?, '', 0, 0, 0, 1) ON CONFLICT (key) DO UPDATE SET pending_migration = 1");
    this.unmarkStmt = db.prepare("DELETE FROM locks WHERE key = ? AND holder = ''");
    this.clearMarkStmt = db.prepare('UPDATE locks SET pending_migration = 0 WHERE key = ?');
    this.breakStmt = db.prepare('DELETE FROM locks WHERE key = ? AND token = ?');
    this.allStmt = db.prepare('SELECT key, holder, pid, expires_ns, token, pending_migration FROM locks');
  }

  get(key: Uint8Array): LockRow | undefined {
    const r = this.getStmt.get(key);
    return r === undefined ? undefined : { key: r[0], holder: r[1], pid: r[2], expires_ns: r[3], token: r[4], pending_migration: r[5] };
  }

  /**
   * Takes the lock for req when the key has no row, or only a mark (a waiter of dbd's own taking
   * its turn). Returns false when somebody holds it. Call inside a transaction.
   */
  take(key: Uint8Array, req: LockRequest): boolean {
    const row = this.get(key);
    if (row === undefined) {
      this.insertStmt.run(key, req.holder, req.pid, req.expiresNs, req.token);
      return true;
    }
    if (row.holder === '') {
      this.takeMarkedStmt.run(req.holder, req.pid, req.expiresNs, req.token, key);
      return true;
    }
    return false;
  }

  /** Passes a held lock straight to the next holder (no window for anybody else). */
  handOver(key: Uint8Array, fromToken: number, req: LockRequest): boolean {
    return this.handOverStmt.run(req.holder, req.pid, req.expiresNs, req.token, key, fromToken).changes > 0;
  }

  /** Releases the lock held with token; a marked row stays (as a mark). False: not held with that token. */
  release(key: Uint8Array, token: number): boolean {
    if (this.releaseStmt.run(key, token).changes > 0) return true;
    return this.releaseMarkedStmt.run(key, token).changes > 0;
  }

  renew(key: Uint8Array, token: number, expiresNs: number): boolean {
    return this.renewStmt.run(expiresNs, key, token).changes > 0;
  }

  /** Marks a key as wanted by a dbd waiter, so shared-access clients stop taking it. */
  mark(key: Uint8Array): void {
    this.markStmt.run(key);
  }

  /** Removes the mark once no dbd waiter remains: deletes a bare mark, clears the flag of a held row. */
  unmark(key: Uint8Array): void {
    if (this.unmarkStmt.run(key).changes === 0) this.clearMarkStmt.run(key);
  }

  /** Breaks the lock held with token (expired lease, dead holder, recovery). */
  breakLock(key: Uint8Array, token: number): boolean {
    return this.breakStmt.run(key, token).changes > 0;
  }

  all(): LockRow[] {
    return this.allStmt.all();
  }

  wipe(): void {
    this.db.exec('DELETE FROM locks');
  }
}
