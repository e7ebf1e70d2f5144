// Invariants crash loudly (STYLE §2): a daemon logs InvariantError at fatal and exits; a test fails.
// Operating errors (peer gone, bad frame, stale generation) are typed replies, never asserts.
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new InvariantError(msg);
}

export function assertNever(x: never, what = 'value'): never {
  throw new InvariantError(`unexpected ${what}: ${String(x)}`);
}
