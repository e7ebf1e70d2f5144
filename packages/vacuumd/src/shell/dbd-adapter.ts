// The core's requests (VacuumIo.request, core/dbd-port.ts) over the client socket: each is sent
// now and its answer handed to the core's onReply on a later turn (requestViaPromise, common).
// The connection's own failures (timeout, failed send, undecodable reply, closed) carry an
// ErrorCode: they reach the core as the Error reply they stand for, with that code, so VacuumNow
// reports what it did before; anything else is `{ ok: false }` (no reply).
import { v1, type Envelope } from '@ctdbng/protocol';
import { RequestIds, requestViaPromise, type ReplyResult, type RequestId, type VacuumPausePoint } from '@ctdbng/common';
import { DbdRequestError, VacuumPhase, type RequestBody } from '../core/dbd-port.js';
import type { DbdConnection } from './dbd-connection.js';

export class DbdAdapter {
  private readonly ids = new RequestIds();

  /**
   * @param deliver the core's onReply
   * @param pauseAfter fault injection (tests, run/faults.json "pauseAfter"): resolves when vacuumd
   *   may go on after a remote phase; the phase's reply reaches the core only then. A switch in
   *   the transport, not in the vacuum logic.
   */
  constructor(
    private readonly c: DbdConnection,
    private readonly deliver: (id: RequestId, r: ReplyResult) => void,
    private readonly pauseAfter: (point: VacuumPausePoint) => Promise<void> = async () => undefined,
  ) {}

  request(body: RequestBody, timeoutMs: number): RequestId {
    return requestViaPromise(this.ids, () => this.send(body, timeoutMs), this.deliver);
  }

  private async send(body: RequestBody, timeoutMs: number): Promise<Envelope> {
    let env: Envelope;
    try {
      env = await this.c.roundTrip(body, timeoutMs);
    } catch (err) {
      if (!(err instanceof DbdRequestError)) throw err;
      return new v1.Envelope({ error: { code: err.code, message: err.detail } });
    }
    const remote = body.vacuumRemote;
    if (remote && env.body === 'vacuumRemoteReply') {
      await this.pauseAfter(remote.phase === VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE ? 'storeTombstone' : 'tryDelete');
    }
    return env;
  }
}
