// One control to a dbd and its typed answer. An Error reply, a missing answer and an answer of
// the wrong kind all become ControlError, carrying the node and the step a caller blames.
// EveryNode is one control sent to several nodes at once and the answers collected as they come
// back (what Promise.allSettled was before the core became a state machine).
import type { ReplyResult, RequestId } from '@ctdbng/common';
import { ErrorCode, errorCodeName, type Body, type BodyOf, type EnvelopeInit } from '@ctdbng/protocol';
import type { RequestFn } from './io.js';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly pnn: number,
    readonly step: string,
    /** The dbd's error code; undefined when no reply came (timeout, unreachable). */
    readonly code: ErrorCode | undefined,
    message: string,
  ) {
    super(message);
  }

  get staleTerm(): boolean {
    return this.code === ErrorCode.ERR_STALE_TERM;
  }
}

/** The reply body `K` of one control, or why there is none. */
export type Answer<K extends Body> = { ok: true; body: BodyOf<K> } | { ok: false; err: ControlError };

/** Reads the answer of node `pnn` to the control of `step`, expecting the reply body `expect`. */
export function readAnswer<K extends Body>(pnn: number, step: string, result: ReplyResult, expect: K): Answer<K> {
  const failure = (code: ErrorCode | undefined, what: string): Answer<K> => ({ ok: false, err: new ControlError(pnn, step, code, `${step} on node ${pnn}: ${what}`) });
  if (!result.ok) return failure(undefined, result.reason);
  const reply = result.env;
  if (reply.error !== null && reply.error !== undefined) {
    const code = reply.error.code ?? ErrorCode.ERR_UNSPECIFIED;
    return failure(code, `${errorCodeName(code)} ${reply.error.message ?? ''}`.trim());
  }
  const got = reply[expect];
  if (got === null || got === undefined) return failure(ErrorCode.ERR_UNKNOWN_TYPE, `reply is ${String(reply.body)}, not ${expect}`);
  return { ok: true, body: got as unknown as BodyOf<K> };
}

/** One control to every node of a list at once; `take` each answer, the step is over when `done`. */
export class EveryNode<K extends Body> {
  private readonly waiting = new Map<RequestId, number>();
  private readonly answered = new Map<number, BodyOf<K>>();
  private readonly failed = new Map<number, ControlError>();

  constructor(
    readonly step: string,
    private readonly expect: K,
    /** The nodes asked, in the order failures are listed. */
    readonly pnns: readonly number[],
  ) {}

  /** Sends `body(pnn)` to every node. */
  send(request: RequestFn<number>, body: (pnn: number) => EnvelopeInit, timeoutMs: number): this {
    for (const pnn of this.pnns) this.waiting.set(request(pnn, body(pnn), timeoutMs), pnn);
    return this;
  }

  /** Takes the answer to one of this step's requests; false when `id` is not one of them. */
  take(id: RequestId, result: ReplyResult): boolean {
    const pnn = this.waiting.get(id);
    if (pnn === undefined) return false;
    this.waiting.delete(id);
    const a = readAnswer(pnn, this.step, result, this.expect);
    if (a.ok) this.answered.set(pnn, a.body);
    else this.failed.set(pnn, a.err);
    return true;
  }

  get done(): boolean {
    return this.waiting.size === 0;
  }

  /** The reply bodies of the nodes that answered, in the order of `pnns`. */
  results(): Map<number, BodyOf<K>> {
    return new Map(this.pnns.filter((p) => this.answered.has(p)).map((p) => [p, this.answered.get(p)!]));
  }

  /** The nodes that failed and why, in the order of `pnns`. */
  failures(): ControlError[] {
    return this.pnns.filter((p) => this.failed.has(p)).map((p) => this.failed.get(p)!);
  }
}
