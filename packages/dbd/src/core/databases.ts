// Attached databases of this node (DESIGN §1, §8): db_id = FNV-1a 32 of the name; a second
// name with the same id is refused (ERR_DB_CONFLICT). Volatile only in this release.
import { fnv1a32String } from '@ctdbng/common';
import type { DbFile } from '@ctdbng/store';
import type { KeyState } from './record-flow/key-state.js';

export interface DbInfoView {
  dbId: number;
  name: string;
  persistent: boolean;
  path: string;
}

export interface DbState {
  readonly info: DbInfoView;
  readonly file: DbFile;
  /** Per-key flow state, only while a key has waiters, a call in flight or a known holder. */
  readonly keys: Map<string, KeyState>;
}

export type AttachOutcome = { ok: true; db: DbState; created: boolean } | { ok: false; why: 'conflict' | 'invalid'; message: string };

export const dbNameBytesMax = 255;

export function validDbName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= dbNameBytesMax && /^[A-Za-z0-9._-]+$/.test(name) && name !== '.' && name !== '..';
}

export class Databases {
  private readonly byId = new Map<number, DbState>();

  constructor(private readonly open: (dbId: number, name: string, persistent: boolean) => DbFile) {}

  get(dbId: number): DbState | undefined {
    return this.byId.get(dbId);
  }

  all(): DbState[] {
    return [...this.byId.values()];
  }

  attach(name: string, persistent: boolean): AttachOutcome {
    if (!validDbName(name)) return { ok: false, why: 'invalid', message: `'${name}' is not a valid db name (letters, digits, . _ -; at most ${dbNameBytesMax} bytes)` };
    const dbId = fnv1a32String(name);
    const existing = this.byId.get(dbId);
    if (existing !== undefined) {
      if (existing.info.name !== name) return { ok: false, why: 'conflict', message: `db '${name}' has the id 0x${dbId.toString(16)} of attached db '${existing.info.name}'` };
      if (existing.info.persistent !== persistent) return { ok: false, why: 'conflict', message: `db '${name}' is attached as ${existing.info.persistent ? 'persistent' : 'volatile'}` };
      return { ok: true, db: existing, created: false };
    }
    const file = this.open(dbId, name, persistent);
    const db: DbState = { info: { dbId, name, persistent, path: file.path }, file, keys: new Map() };
    this.byId.set(dbId, db);
    return { ok: true, db, created: true };
  }

  closeAll(): void {
    for (const db of this.byId.values()) db.file.close();
    this.byId.clear();
  }
}
