// dbd's node state file, <state dir>/node-state.json (DESIGN §5.4): the installed generation,
// the highest leader term seen, the generation a recovery froze the node for, and whether the
// node is amnesiac. Written durably before any reply that depends on it. A missing file on a
// node that already has db files means the state was lost: the node is amnesiac (it counts
// toward no quorum until it installs a generation). A node without db files is new. An
// unreadable file stops dbd: guessing could bring a deleted record back.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '@ctdbng/common';
import type { NodeStateRecord, NodeStateStore } from '../core/io.js';

export class NodeStateFileError extends Error {
  override readonly name = 'NodeStateFileError';
}

export const nodeStateFileName = 'node-state.json';

function count(o: Record<string, unknown>, name: string, path: string): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new NodeStateFileError(`${path}: bad ${name}`);
  return v;
}

export class NodeStateFile implements NodeStateStore {
  readonly path: string;

  /** @param dbDirs directories whose *.sqlite files show that this node has run before. */
  constructor(stateDir: string, private readonly dbDirs: readonly string[]) {
    this.path = join(stateDir, nodeStateFileName);
  }

  load(): NodeStateRecord {
    if (!existsSync(this.path)) {
      const amnesiac = this.dbDirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.sqlite')));
      const fresh = { installedGeneration: 0, highestTerm: 0, frozenFor: 0, amnesiac };
      this.save(fresh);
      return fresh;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new NodeStateFileError(`${this.path} is not valid JSON; remove it only knowing that the node then counts toward no quorum until a recovery takes it in`, { cause: err });
    }
    if (typeof parsed !== 'object' || parsed === null) throw new NodeStateFileError(`${this.path}: not an object`);
    const o = parsed as Record<string, unknown>;
    if (typeof o['amnesiac'] !== 'boolean') throw new NodeStateFileError(`${this.path}: bad amnesiac`);
    return {
      installedGeneration: count(o, 'installedGeneration', this.path),
      highestTerm: count(o, 'highestTerm', this.path),
      frozenFor: count(o, 'frozenFor', this.path),
      amnesiac: o['amnesiac'],
    };
  }

  save(state: NodeStateRecord): void {
    writeFileDurably(this.path, `${JSON.stringify(state)}\n`);
  }
}
