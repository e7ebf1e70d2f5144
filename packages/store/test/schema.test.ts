// The db file layout and pragmas (DESIGN §8).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DbFile, schemaVersion } from '@ctdbng/store';
import { identity, openDb, tempDir } from './helpers.js';

describe('schema', () => {
  test('a new db file is created with auto_vacuum=INCREMENTAL and journal_mode=WAL', () => {
    const db = openDb(join(tempDir(), 'a.sqlite'));
    expect(db.sql.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.sql.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  test('an in-memory db gets auto_vacuum=INCREMENTAL too', () => {
    expect(openDb().sql.pragma('auto_vacuum', { simple: true })).toBe(2);
  });

  test('the connection uses busy_timeout=0, wal_autocheckpoint=0 and synchronous=OFF for a volatile db', () => {
    const db = openDb(join(tempDir(), 'a.sqlite'));
    expect(db.sql.pragma('busy_timeout', { simple: true })).toBe(0);
    expect(db.sql.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(db.sql.pragma('synchronous', { simple: true })).toBe(0);
  });

  test('a persistent db uses synchronous=FULL', () => {
    const db = openDb(join(tempDir(), 'p.sqlite'), { ...identity, persistent: true });
    expect(db.sql.pragma('synchronous', { simple: true })).toBe(2);
  });

  test('the schema version is stored in user_version and a reopen keeps the rows', () => {
    const path = join(tempDir(), 'a.sqlite');
    const first = DbFile.open(path, identity);
    first.records.put(Buffer.from('k'), { rsn: 3, dmaster: 0, flags: 0 }, Buffer.from('v'));
    first.close();
    const again = openDb(path);
    expect(again.sql.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(again.records.get(Buffer.from('k'))?.rsn).toBe(3);
  });

  test('a db file with another schema version is refused', () => {
    const path = join(tempDir(), 'a.sqlite');
    const first = DbFile.open(path, identity);
    first.sql.pragma(`user_version = ${schemaVersion + 1}`);
    first.close();
    expect(() => DbFile.open(path, identity)).toThrow(/schema version/);
  });

  test('the meta row carries the identity the file was opened with', () => {
    const meta = openDb().meta.get();
    expect(meta).toMatchObject({ db_id: identity.dbId, name: identity.name, persistent: 0, pnn: 0, frozen: 0, wipe_epoch: 0 });
  });
});
