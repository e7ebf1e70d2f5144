// Test fixtures for the store: temp dirs removed when the test ends, pass or fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { DbFile, SharedAccessDb, type DbIdentity } from '@ctdbng/store';

export const identity: DbIdentity = { dbId: 0x1234, name: 'test.tdb', persistent: false, pnn: 0 };

export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctdbng-store-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A DbFile closed when the test ends; ':memory:' unless a path is given. */
export function openDb(path = ':memory:', id: DbIdentity = identity): DbFile {
  const db = DbFile.open(path, id);
  onTestFinished(() => db.close());
  return db;
}

export const incarnation = 7;

/**
 * A db file on disk whose meta carries a live fence (incarnation 7, lease 60 s ahead), and a
 * SharedAccessDb connected to it as a client of that incarnation.
 */
export function fencedPair(): { db: DbFile; sa: SharedAccessDb; path: string } {
  const path = join(tempDir(), 'test.tdb.0.sqlite');
  const db = openDb(path);
  db.meta.set({ incarnation, lease_until_ns: nowNs() + 60e9 });
  const sa = new SharedAccessDb(path, identity.pnn, incarnation, process.pid);
  onTestFinished(() => sa.close());
  return { db, sa, path };
}

export const key = (s: string): Buffer => Buffer.from(s, 'utf8');
