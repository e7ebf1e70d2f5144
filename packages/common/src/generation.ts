// Generations are ordered (DESIGN §1): the pair (leader's term, sequence within the term),
// carried as one number term × 2^32 + seq; 0 = none. Terms only grow, so a later generation is
// always the larger number, whoever made it. Kept a JavaScript number: exact while the term
// stays below 2^21 (two million elections), which generationOf asserts.
import { assert } from './assert.js';

export const generationSeqMax = 0xffff_ffff;
export const generationTermMax = 2 ** 21 - 1;

export function generationOf(term: number, seq: number): number {
  assert(Number.isInteger(term) && term >= 1 && term <= generationTermMax, `generation term ${term} out of range`);
  assert(Number.isInteger(seq) && seq >= 1 && seq <= generationSeqMax, `generation seq ${seq} out of range`);
  return term * 2 ** 32 + seq;
}

export function generationTerm(generation: number): number {
  return Math.floor(generation / 2 ** 32);
}

export function generationSeq(generation: number): number {
  return generation % 2 ** 32;
}

/** "term.seq", for logs and people. */
export function generationText(generation: number): string {
  return generation === 0 ? 'none' : `${generationTerm(generation)}.${generationSeq(generation)}`;
}
