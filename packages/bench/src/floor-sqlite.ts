// Floor (a): bare better-sqlite3 doing what shared access does for fetch_lock+store+unlock, with
// nothing of ctdb-ng's but its table layout (@ctdbng/store schemaSql). WAL, synchronous=OFF, as a
// volatile db file (store/src/schema.ts applyPragmas). Two shapes:
//   two transactions  BEGIN IMMEDIATE; read record + lock row; INSERT lock; COMMIT
//                     BEGIN IMMEDIATE; UPDATE data; DELETE lock; COMMIT      (= shared access)
//   one transaction   BEGIN IMMEDIATE; read record; UPDATE data; COMMIT      (= db.update)
// No fence, no lease, no meta row: the least any implementation of this layout can do.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { schemaSql } from '@ctdbng/store';
import { summarize, type LatencySummary } from './stats.js';

export interface SqliteFloorOptions {
  ops: number;
  warmup: number;
  /** A directory for the db file (created; the file is removed at the end). */
  dir: string;
}

export interface SqliteFloor {
  twoTransactions: LatencySummary;
  oneTransaction: LatencySummary;
}

interface RecordRow { rsn: number; dmaster: number; flags: number; data: Buffer; lock_key: Buffer | null }

/** Runs both shapes on a fresh file, `warmup` unmeasured then `ops` measured operations each. */
export function sqliteFloor(o: SqliteFloorOptions): SqliteFloor {
  mkdirSync(o.dir, { recursive: true });
  const path = join(o.dir, 'floor-sqlite.db');
  const removeFiles = (): void => { for (const s of ['', '-wal', '-shm']) rmSync(`${path}${s}`, { force: true }); };
  removeFiles();
  const db = new BetterSqlite3(path);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    // dbd checkpoints the files of its clients; alone here, SQLite's own default does it.
    db.pragma('wal_autocheckpoint = 1000');
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec(schemaSql);
    const key = Buffer.from('floor-key');
    db.prepare('INSERT INTO records (key, rsn, dmaster, flags, data) VALUES (?, 1, 0, 0, ?)').run(key, Buffer.alloc(32, 0x61));

    const read = db.prepare<[Buffer], RecordRow>(
      'SELECT r.rsn, r.dmaster, r.flags, r.data, l.key AS lock_key FROM records r LEFT JOIN locks l ON l.key = r.key WHERE r.key = ?');
    const insertLock = db.prepare('INSERT INTO locks (key, holder, pid, expires_ns, token, pending_migration) VALUES (?, ?, ?, ?, ?, 0)');
    const setData = db.prepare('UPDATE records SET data = ? WHERE key = ?');
    const release = db.prepare('DELETE FROM locks WHERE key = ? AND token = ?');

    const lockTx = db.transaction((k: Buffer, token: number): RecordRow => {
      const r = read.get(k);
      if (r === undefined || r.lock_key !== null) throw new Error('floor: record missing or still locked');
      insertLock.run(k, 'floor', process.pid, 0, token);
      return r;
    });
    const storeUnlockTx = db.transaction((k: Buffer, v: Buffer, token: number): void => {
      setData.run(v, k);
      if (release.run(k, token).changes !== 1) throw new Error('floor: lock row lost');
    });
    const updateTx = db.transaction((k: Buffer, v: Buffer): void => {
      if (read.get(k) === undefined) throw new Error('floor: record missing');
      setData.run(v, k);
    });

    const value = Buffer.alloc(32, 0x62);
    const twoTransactions = timeSync(o.ops, o.warmup, (i) => {
      value.writeDoubleLE(i, 0);
      lockTx.immediate(key, i + 1);
      storeUnlockTx.immediate(key, value, i + 1);
    });
    const oneTransaction = timeSync(o.ops, o.warmup, (i) => {
      value.writeDoubleLE(i, 0);
      updateTx.immediate(key, value);
    });
    return { twoTransactions, oneTransaction };
  } finally {
    db.close();
    removeFiles();
  }
}

/** `warmup` unmeasured calls, then `ops` calls each timed alone. */
export function timeSync(ops: number, warmup: number, op: (i: number) => void): LatencySummary {
  for (let i = 0; i < warmup; i++) op(i);
  const samples = new Float64Array(ops);
  for (let i = 0; i < ops; i++) {
    const t0 = process.hrtime.bigint();
    op(warmup + i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return summarize(samples);
}
