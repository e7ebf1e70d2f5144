// One control to a dbd and its typed answer. An Error reply, a missing answer and an answer of
// the wrong kind all become ControlError, carrying the node and the step a caller blames.
import { ErrorCode, errorCodeName, type Body, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import type { DbdRpc } from './io.js';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly pnn: number,
    readonly step: string,
    /** The dbd's error code; undefined when no reply came (timeout, unreachable). */
    readonly code: ErrorCode | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get staleTerm(): boolean {
    return this.code === ErrorCode.ERR_STALE_TERM;
  }
}

/** Sends `body` to node `pnn` and returns the reply body `expect`. */
export async function control<K extends Body>(rpc: DbdRpc, pnn: number, step: string, body: EnvelopeInit, expect: K, timeoutMs: number): Promise<BodyOf<K>> {
  // Created at send time so that its stack names the caller (STYLE §1, nats request.ts).
  const failure = (code: ErrorCode | undefined, what: string, cause?: unknown): ControlError =>
    new ControlError(pnn, step, code, `${step} on node ${pnn}: ${what}`, cause === undefined ? undefined : { cause });
  const pending = failure(undefined, 'no reply');
  let reply;
  try {
    reply = await rpc.request(pnn, body, timeoutMs);
  } catch (err) {
    pending.cause = err;
    pending.message = `${step} on node ${pnn}: ${err instanceof Error ? err.message : String(err)}`;
    throw pending;
  }
  if (reply.error !== null && reply.error !== undefined) {
    const code = reply.error.code ?? ErrorCode.ERR_UNSPECIFIED;
    throw failure(code, `${errorCodeName(code)} ${reply.error.message ?? ''}`.trim());
  }
  const got = reply[expect];
  if (got === null || got === undefined) throw failure(ErrorCode.ERR_UNKNOWN_TYPE, `reply is ${String(reply.body)}, not ${expect}`);
  return got as unknown as BodyOf<K>;
}

/** Runs `fn` for every node at once; returns the nodes that failed and why. */
export async function everyNode<T>(pnns: readonly number[], fn: (pnn: number) => Promise<T>): Promise<{ results: Map<number, T>; failures: ControlError[] }> {
  const settled = await Promise.allSettled(pnns.map((p) => fn(p)));
  const results = new Map<number, T>();
  const failures: ControlError[] = [];
  settled.forEach((s, i) => {
    const pnn = pnns[i]!;
    if (s.status === 'fulfilled') results.set(pnn, s.value);
    else failures.push(s.reason instanceof ControlError ? s.reason : new ControlError(pnn, 'unknown', undefined, String(s.reason), { cause: s.reason }));
  });
  return { results, failures };
}
