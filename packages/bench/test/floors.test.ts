// The floor measurements run end to end on tiny counts and measure what they say (no timing is
// asserted: only that every sample is there and the prototype really moves the record).
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMsg, encodeMsg, migrationFloor, Msg, msgBytes, nodeStartRuns, sqliteFloor, zmqFloor } from '@ctdbng/bench';

const dir = mkdtempSync(join(tmpdir(), 'bench-floors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tcp port free on 127.0.0.1 now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

describe('sqliteFloor', () => {
  it('times every operation of both shapes and leaves no db file behind', () => {
    const f = sqliteFloor({ ops: 20, warmup: 2, dir: join(dir, 'sqlite') });
    expect(f.twoTransactions.n).toBe(20);
    expect(f.oneTransaction.n).toBe(20);
    expect(f.twoTransactions.p50Us).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'sqlite'))).toEqual([]);
  });
});

describe('zmqFloor', () => {
  it('echoes over tcp and ipc, one and two round trips, and stops its child', async () => {
    const f = await zmqFloor({ ops: 10, warmup: 1, port: await freePort(), dir: join(dir, 'zmq') });
    for (const t of [f.tcp, f.ipc]) {
      expect(t.oneRoundTrip.n).toBe(10);
      expect(t.twoRoundTrips.n).toBe(10);
    }
    expect(readdirSync(join(dir, 'zmq'))).toEqual([]);
  });
});

describe('migrationFloor', () => {
  it('moves the record on every operation (clients on nodes 0 and 2 alternate)', async () => {
    const f = await migrationFloor({ ops: 10, warmup: 2, port: await freePort(), dir: join(dir, 'migration') });
    expect(f.operation.n).toBe(10);
    expect(f.migrated).toBe(10);
  }, 30_000);
});

describe('the migration prototype\'s messages', () => {
  it('round-trip through their fixed layout', () => {
    const data = Buffer.alloc(32, 7);
    const m = decodeMsg(encodeMsg(Msg.DMASTER_REQ, 2, 4_000_000_000, 12345, data));
    expect(m).toMatchObject({ type: Msg.DMASTER_REQ, requester: 2, seq: 4_000_000_000, rsn: 12345 });
    expect(m.data.equals(data)).toBe(true);
  });
  it('a message of another size is refused', () => {
    expect(() => decodeMsg(Buffer.alloc(msgBytes + 1))).toThrow(/47 bytes/);
  });
});

describe('nodeStartRuns', () => {
  it('gives one time per run', () => {
    const runs = nodeStartRuns(2);
    expect(runs).toHaveLength(2);
    for (const ms of runs) expect(ms).toBeGreaterThan(0);
  });
});
