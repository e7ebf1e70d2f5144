// The election state file <runDir>/recoverd.state (DESIGN §5.1): `(term, votedFor)` as JSON,
// written to a temporary file, fsynced, renamed over the old one and the directory fsynced, so
// a crash leaves either the old or the new vote and a restarted recoverd never votes twice.
// An unreadable file stops recoverd: guessing could mean voting twice in a term.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '@ctdbng/common';
import type { PersistedVote, VoteStore } from '../core/io.js';

export class VoteFileError extends Error {
  override readonly name = 'VoteFileError';
}

export class VoteFile implements VoteStore {
  constructor(private readonly path: string) {}

  load(): PersistedVote {
    if (!existsSync(this.path)) return { term: 0, votedFor: undefined };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new VoteFileError(`${this.path} is not valid JSON; move it away only if no recoverd of this node voted`, { cause: err });
    }
    const o = parsed as { term?: unknown; votedFor?: unknown };
    if (typeof o.term !== 'number' || !Number.isSafeInteger(o.term) || o.term < 0) throw new VoteFileError(`${this.path}: bad term`);
    if (o.votedFor !== null && (typeof o.votedFor !== 'number' || !Number.isInteger(o.votedFor))) throw new VoteFileError(`${this.path}: bad votedFor`);
    return { term: o.term, votedFor: o.votedFor === null ? undefined : o.votedFor };
  }

  save(v: PersistedVote): void {
    writeFileDurably(this.path, JSON.stringify({ term: v.term, votedFor: v.votedFor ?? null }) + '\n');
  }
}
