// The values of `ctdbng`'s options and arguments (DESIGN §10), checked without commander: the
// commander program (program.ts) and the quick parse (quick-parse.ts) accept exactly the same ones.
// Each returns undefined for a value it refuses; program.ts turns that into commander's error.

export type NodeTarget = number | 'all';

export interface GlobalOptions {
  json: boolean;
  node: NodeTarget | undefined;
  socket: string | undefined;
  timeoutMs: number;
  /** -T was given on the command line (not the default): it then also bounds waits. */
  timelimitExplicit: boolean;
}

/** Exit status of a usage error (DESIGN §10). */
export const exitUsage = 2;
export const timelimitSecondsDefault = 10;
const pnnMax = 0xfffffffe;
const wordMax = 0xffffffff;

export const nodeTargetRefusal = 'expected a PNN or "all"';
export const secondsRefusal = 'expected a positive number of seconds';
export const integerRefusal = 'expected an integer';
export const positiveIntegerRefusal = 'expected a whole number of 1 or more';

/** `-n PNN|all`. */
export function nodeTargetOf(v: string): NodeTarget | undefined {
  if (v === 'all') return 'all';
  if (!/^\d+$/.test(v) || Number(v) > pnnMax) return undefined;
  return Number(v);
}

/** `-T SECONDS`. */
export function secondsOf(v: string): number | undefined {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A decimal or 0x integer argument, as its decimal text. */
export function integerOf(v: string): string | undefined {
  const n = /^0x[0-9a-fA-F]+$/.test(v) ? Number.parseInt(v.slice(2), 16) : /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? String(n) : undefined;
}

/** A whole number of 1 or more (up to 2^32 − 1), as its decimal text. */
export function positiveIntegerOf(v: string): string | undefined {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > wordMax) return undefined;
  return String(Number(v));
}

/** A PNN or "all" argument, as text. */
export function pnnOrAllOf(v: string): string | undefined {
  const t = nodeTargetOf(v);
  return t === undefined ? undefined : String(t);
}
