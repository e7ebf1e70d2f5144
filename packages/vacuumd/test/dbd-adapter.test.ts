// The shell's bridge from the DEALER's promises to the core's reply events (dbd-adapter.ts): an
// answer is delivered on a later turn, the connection's own failures keep their ErrorCode, and the
// pauseAfter fault hook holds a remote phase's reply back until it is released.
import { describe, expect, it } from 'vitest';
import { ErrorCode, v1, type Envelope } from '@ctdbng/protocol';
import type { ReplyResult, RequestId, VacuumPausePoint } from '@ctdbng/common';
import { DbdRequestError, VacuumPhase, type RequestBody } from '../src/index.js';
import { DbdAdapter } from '../src/shell/dbd-adapter.js';
import type { DbdConnection } from '../src/shell/dbd-connection.js';

/** A connection that answers with `answer(body)`. */
function connection(answer: (body: RequestBody) => Promise<Envelope>): DbdConnection {
  return { roundTrip: (body: RequestBody) => answer(body) } as unknown as DbdConnection;
}

const turns = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the DbdAdapter', () => {
  it('delivers the reply on a later turn, never inside the request', async () => {
    const got: [RequestId, ReplyResult][] = [];
    const adapter = new DbdAdapter(connection(async () => new v1.Envelope({ ok: {} })), (id, r) => got.push([id, r]));
    const id = adapter.request({ ackDeleted: { dbId: 1, seq: 2 } }, 1000);
    expect(got).toEqual([]);
    await turns();
    expect(got.map(([i, r]) => [i, r.ok && r.env.body])).toEqual([[id, 'ok']]);
  });

  it('a timeout of the connection reaches the core as an Error reply with ERR_TIMEOUT', async () => {
    const got: ReplyResult[] = [];
    const adapter = new DbdAdapter(connection(async () => {
      throw new DbdRequestError(ErrorCode.ERR_TIMEOUT, 'no reply from dbd in 1000 ms (getDbMap)');
    }), (_id, r) => got.push(r));
    adapter.request({ getDbMap: {} }, 1000);
    await turns();
    const r = got[0]!;
    expect(r.ok && r.env.body).toBe('error');
    expect(r.ok && r.env.error).toMatchObject({ code: ErrorCode.ERR_TIMEOUT, message: 'no reply from dbd in 1000 ms (getDbMap)' });
  });

  it('any other failure is no reply', async () => {
    const got: ReplyResult[] = [];
    const adapter = new DbdAdapter(connection(async () => {
      throw new Error('boom');
    }), (_id, r) => got.push(r));
    adapter.request({ getDbMap: {} }, 1000);
    await turns();
    expect(got).toEqual([{ ok: false, reason: 'boom' }]);
  });

  it('pauseAfter holds the StoreTombstone reply back until released; other replies are not held', async () => {
    const got: string[] = [];
    let release: () => void = () => undefined;
    const points: VacuumPausePoint[] = [];
    const adapter = new DbdAdapter(
      connection(async (body) => (body.vacuumRemote ? new v1.Envelope({ vacuumRemoteReply: { nodes: [] } }) : new v1.Envelope({ ok: {} }))),
      (_id, r) => got.push(r.ok ? r.env.body ?? '?' : 'none'),
      (point) => {
        points.push(point);
        return point === 'storeTombstone' ? new Promise((r) => (release = r)) : Promise.resolve();
      },
    );
    adapter.request({ vacuumRemote: { dbId: 1, phase: VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE, keys: [] } }, 1000);
    adapter.request({ ackDeleted: { dbId: 1, seq: 1 } }, 1000);
    await turns();
    expect(got).toEqual(['ok']);
    expect(points).toEqual(['storeTombstone']);
    release();
    await turns();
    expect(got).toEqual(['ok', 'vacuumRemoteReply']);
    adapter.request({ vacuumRemote: { dbId: 1, phase: VacuumPhase.VACUUM_PHASE_TRY_DELETE, keys: [] } }, 1000);
    await turns();
    expect(points).toEqual(['storeTombstone', 'tryDelete']);
    expect(got).toEqual(['ok', 'vacuumRemoteReply', 'vacuumRemoteReply']);
  });
});
