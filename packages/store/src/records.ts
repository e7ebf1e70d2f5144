// The records table (DESIGN §8): key -> header (rsn, dmaster, flags) + data; empty data = tombstone.
import type { Database, Statement } from 'better-sqlite3';
import { PackedPages, type PackedPage } from './packed-pages.js';

/**
 * The rsn written by a client's store (SQL, one `?`: the new data's length). A store keeps the
 * rsn (DESIGN §2.1 rule 5), except that data stored into a tombstone (or an empty record) raises
 * it by one. The tombstone's copies that vacuuming placed on other nodes carry its rsn (§4.3a);
 * were the dmaster's new data to keep that rsn, a recovery would meet two different copies at
 * the same rsn, and one that failed part-way leaves no rule to tell which is newer (seed 4002174
 * lost an acknowledged write so). With it, the dmaster's copy has strictly the highest rsn except
 * for tombstone copies identical to it, as rule 5 says. The shared-access steps write the same
 * expression (shared-access.ts, packages/store/README.md §4).
 */
export const rsnOfStore = 'rsn = CASE WHEN length(data) = 0 AND ? > 0 THEN rsn + 1 ELSE rsn END';

export interface RecordHeader {
  rsn: number;
  dmaster: number;
  flags: number;
}

export interface StoredRecord extends RecordHeader {
  key: Buffer;
  data: Buffer;
}

export class RecordsTable {
  /** Read raw (an array): better-sqlite3 builds a row object property by property, by name, which cost more than the read. */
  private readonly getStmt: Statement<[Uint8Array], [Buffer, number, number, number, Buffer]>;
  private readonly upsertStmt: Statement<[Uint8Array, number, number, number, Uint8Array]>;
  private readonly setDataStmt: Statement<[number, Uint8Array, number, Uint8Array]>;
  private readonly setDmasterStmt: Statement<[number, Uint8Array]>;
  private readonly deleteStmt: Statement<[Uint8Array]>;
  private readonly countStmt: Statement<[], { n: number }>;
  private readonly pageAllStmt: Statement<[Uint8Array, number], StoredRecord>;
  private readonly pageAllFirstStmt: Statement<[number], StoredRecord>;
  private readonly pageLiveStmt: Statement<[Uint8Array, number, number], StoredRecord>;
  private readonly pageLiveFirstStmt: Statement<[number, number], StoredRecord>;
  private readonly packed: PackedPages;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare<[Uint8Array], [Buffer, number, number, number, Buffer]>('SELECT key, rsn, dmaster, flags, data FROM records WHERE key = ?').raw(true);
    this.upsertStmt = db.prepare(
      'INSERT INTO records (key, rsn, dmaster, flags, data) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET rsn = excluded.rsn, dmaster = excluded.dmaster, flags = excluded.flags, data = excluded.data',
    );
    // Plain '?' only: better-sqlite3 takes '?NNN' for a named parameter and refuses positional values.
    this.setDataStmt = db.prepare(`UPDATE records SET ${rsnOfStore}, data = ?, flags = ? WHERE key = ?`);
    this.setDmasterStmt = db.prepare('UPDATE records SET dmaster = ? WHERE key = ?');
    this.deleteStmt = db.prepare('DELETE FROM records WHERE key = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM records');
    const cols = 'SELECT key, rsn, dmaster, flags, data FROM records';
    this.pageAllStmt = db.prepare(`${cols} WHERE key > ? ORDER BY key LIMIT ?`);
    this.pageAllFirstStmt = db.prepare(`${cols} ORDER BY key LIMIT ?`);
    this.pageLiveStmt = db.prepare(`${cols} WHERE key > ? AND dmaster = ? AND length(data) > 0 ORDER BY key LIMIT ?`);
    this.pageLiveFirstStmt = db.prepare(`${cols} WHERE dmaster = ? AND length(data) > 0 ORDER BY key LIMIT ?`);
    this.packed = new PackedPages(db);
  }

  get(key: Uint8Array): StoredRecord | undefined {
    const r = this.getStmt.get(key);
    return r === undefined ? undefined : { key: r[0], rsn: r[1], dmaster: r[2], flags: r[3], data: r[4] };
  }

  put(key: Uint8Array, header: RecordHeader, data: Uint8Array): void {
    this.upsertStmt.run(key, header.rsn, header.dmaster, header.flags, data);
  }

  /**
   * A client's store under the lock: data and flags; dmaster stays, and so does the rsn (§2.1.5)
   * but when data goes into a tombstone (rsnOfStore).
   */
  setData(key: Uint8Array, data: Uint8Array, flags: number): void {
    this.setDataStmt.run(data.length, data, flags, key);
  }

  /** A header-only update (the old dmaster naming the new one, §2.1.4). */
  setDmaster(key: Uint8Array, dmaster: number): void {
    this.setDmasterStmt.run(dmaster, key);
  }

  remove(key: Uint8Array): boolean {
    return this.deleteStmt.run(key).changes > 0;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** Every record after a key (local traverse with stale copies and tombstones). */
  pageAll(after: Uint8Array | undefined, limit: number): StoredRecord[] {
    return after === undefined ? this.pageAllFirstStmt.all(limit) : this.pageAllStmt.all(after, limit);
  }

  /** A recovery pull page (§5.3.2): every record after a key, packed (packed-pages.ts). */
  pagePacked(after: Uint8Array | undefined, recordsMax: number, bytesMax: number): PackedPage {
    return this.packed.page(after, recordsMax, bytesMax);
  }

  /** Writes the records of a packed page (a recovery push, §5.3.2); returns how many. */
  putPacked(page: Uint8Array, records: number): number {
    return this.packed.put(page, records);
  }

  /** Live records this node is dmaster of, after a key (cluster-wide traverse, §2.3). */
  pageLive(after: Uint8Array | undefined, dmaster: number, limit: number): StoredRecord[] {
    return after === undefined ? this.pageLiveFirstStmt.all(dmaster, limit) : this.pageLiveStmt.all(after, dmaster, limit);
  }

  /** rsn + 1 on every record: the recovery leader becoming dmaster of the whole merge (§5.3.2). */
  bumpAllRsn(): number {
    return this.db.prepare('UPDATE records SET rsn = rsn + 1').run().changes;
  }

  wipe(): void {
    this.db.exec('DELETE FROM records');
  }
}
