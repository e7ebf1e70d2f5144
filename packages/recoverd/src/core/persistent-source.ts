// Which persistent copy a recovery pushes (DESIGN §3, §5.3.2): the whole db of the participant
// with the highest seqnum; on a tie between different commit ids, the commit held by more
// participants, then the higher commit id; among identical copies the lowest pnn. Pure.
import { assert } from '@ctdbng/common';

/** The record holding a persistent db's sequence number (§3). */
export const seqnumKey = Buffer.from('__db_sequence_number__', 'utf8');

/** A persistent copy's sequence number and the commit that set it (8 bytes LE seqnum, then the commit id). */
export interface SeqnumInfo {
  pnn: number;
  seqnum: bigint;
  commitId: string;
}

export function parseSeqnum(pnn: number, data: Uint8Array | undefined): SeqnumInfo {
  if (data === undefined || data.length < 8) return { pnn, seqnum: 0n, commitId: '' };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { pnn, seqnum: buf.readBigUInt64LE(0), commitId: buf.subarray(8).toString('hex') };
}

/** The participant whose persistent copy is pushed. */
export function choosePersistentSource(copies: readonly SeqnumInfo[]): number {
  assert(copies.length > 0, 'persistent recovery without copies');
  const holders = new Map<string, number>();
  for (const c of copies) holders.set(`${c.seqnum}/${c.commitId}`, (holders.get(`${c.seqnum}/${c.commitId}`) ?? 0) + 1);
  const better = (a: SeqnumInfo, b: SeqnumInfo): boolean => {
    if (a.seqnum !== b.seqnum) return a.seqnum > b.seqnum;
    const ha = holders.get(`${a.seqnum}/${a.commitId}`)!;
    const hb = holders.get(`${b.seqnum}/${b.commitId}`)!;
    if (ha !== hb) return ha > hb;
    if (a.commitId !== b.commitId) return a.commitId > b.commitId;
    return a.pnn < b.pnn;
  };
  let best = copies[0]!;
  for (const c of copies) if (better(c, best)) best = c;
  return best.pnn;
}
