// The db file layout (DESIGN §8, §2.2): records, locks, deleted feed, meta. One file per db per node.
// This schema and the transaction steps in shared-access.ts are the shared-access protocol:
// packages/store/README.md documents both for clients in other languages.
import type { Database } from 'better-sqlite3';

/** Bumped when the layout changes; stored in PRAGMA user_version. */
export const schemaVersion = 1;

export const schemaSql = `
CREATE TABLE IF NOT EXISTS records (
  key BLOB PRIMARY KEY,
  rsn INTEGER NOT NULL,
  dmaster INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (
  key BLOB PRIMARY KEY,
  holder TEXT NOT NULL,
  pid INTEGER NOT NULL,
  expires_ns INTEGER NOT NULL,
  token INTEGER NOT NULL,
  pending_migration INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key BLOB NOT NULL,
  rsn INTEGER NOT NULL,
  epoch INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  db_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  persistent INTEGER NOT NULL,
  pnn INTEGER NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0,
  frozen INTEGER NOT NULL DEFAULT 0,
  valid INTEGER NOT NULL DEFAULT 0,
  incarnation INTEGER NOT NULL DEFAULT 0,
  lease_until_ns INTEGER NOT NULL DEFAULT 0,
  lock_lease_ms INTEGER NOT NULL DEFAULT 10000,
  wipe_epoch INTEGER NOT NULL DEFAULT 0
);
`;

export interface PragmaOptions {
  persistent: boolean;
  /** Clients leave checkpoints to dbd (DESIGN §2.2). */
  autocheckpoint: boolean;
}

/** Pragmas for every connection; passed explicitly because defaults move. */
export function applyPragmas(db: Database, opts: PragmaOptions): void {
  db.pragma('busy_timeout = 0');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.persistent ? 'FULL' : 'OFF'}`);
  db.pragma(`wal_autocheckpoint = ${opts.autocheckpoint ? 1000 : 0}`);
  db.defaultSafeIntegers(false);
}

/** Creates the tables (auto_vacuum must be set before the first table). */
export function createSchema(db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === schemaVersion) return;
  if (version !== 0) throw new Error(`db file has schema version ${version}, this build speaks ${schemaVersion}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec(schemaSql);
  db.pragma(`user_version = ${schemaVersion}`);
}
