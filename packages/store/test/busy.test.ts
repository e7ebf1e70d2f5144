// Busy handling (DESIGN §2.2): busy_timeout=0 and a bounded retry; past the bound, StoreBusyError.
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, onTestFinished, test } from 'vitest';
import { StoreBusyError, retryBusy } from '@ctdbng/store';
import { fencedPair, key, openDb, tempDir } from './helpers.js';

/** A second connection holding the write lock, as another process in a transaction would. */
function holdWriteLock(path: string): { release(): void } {
  const other = new BetterSqlite3(path);
  onTestFinished(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  });
  other.pragma('busy_timeout = 0');
  other.exec('BEGIN IMMEDIATE');
  return { release: () => other.exec('ROLLBACK') };
}

describe('retryBusy', () => {
  test('a transaction on a file another connection holds in BEGIN IMMEDIATE gives StoreBusyError after the bound', () => {
    const path = join(tempDir(), 'busy.sqlite');
    const db = openDb(path);
    const holder = holdWriteLock(path);
    expect(() => db.lock(key('a'), { holder: 'dbd', pid: 1, expiresNs: 1, token: 1 })).toThrow(StoreBusyError);
    holder.release();
    expect(db.lock(key('a'), { holder: 'dbd', pid: 1, expiresNs: 1, token: 1 }).result).toBe('ok');
  });

  test('a shared-access lock on a busy file gives StoreBusyError', () => {
    const { db, sa, path } = fencedPair();
    db.records.put(key('a'), { rsn: 1, dmaster: 0, flags: 0 }, key('v'));
    holdWriteLock(path);
    expect(() => sa.lock(key('a'))).toThrow(StoreBusyError);
  });

  test('a busy error that clears within the bound is retried to success', () => {
    let calls = 0;
    const result = retryBusy(() => {
      calls++;
      if (calls < 4) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(4);
  });

  test('an error that is not busy is thrown at once', () => {
    let calls = 0;
    expect(() => retryBusy(() => {
      calls++;
      throw Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT' });
    })).toThrow('constraint');
    expect(calls).toBe(1);
  });
});
