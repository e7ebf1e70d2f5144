// `ctdbng vacuum [DB]` against a fake vacuumd: a ROUTER on ipc://$CTDBNG_BASE/run/vacuumd.sock that
// answers each VacuumNow as the test says (DESIGN §10: the JSON shapes; exit 1 with one line).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { Router } from 'zeromq';
import { decodeEnvelope, encodeEnvelope, ErrorCode, type EnvelopeInit } from '@ctdbng/protocol';
import { runCtdbng } from '../src/cli/run.js';
import { captureIo, fakeClient } from './fake-client.js';

// The runner refuses a missing dbd socket before connecting: point --socket at a file that exists.
const socketArgs = ['--socket', fileURLToPath(import.meta.url)];

/** What the fake answers to VacuumNow{dbName}; undefined: never answer. */
type Answer = (dbName: string) => EnvelopeInit | undefined;

interface FakeVacuumd {
  base: string;
  requests: string[];
  close(): void;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempBase(): string {
  const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-vacuum-'));
  mkdirSync(join(base, 'run'));
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

async function fakeVacuumd(answer: Answer): Promise<FakeVacuumd> {
  const base = tempBase();
  const router = new Router({ linger: 0 });
  await router.bind(`ipc://${join(base, 'run', 'vacuumd.sock')}`);
  const requests: string[] = [];
  void (async () => {
    try {
      for await (const [identity, frame] of router) {
        const dec = decodeEnvelope(frame ?? new Uint8Array(0));
        if (!dec.ok || dec.envelope.body !== 'vacuumNow') throw new Error('fake vacuumd: not a VacuumNow');
        const dbName = dec.envelope.vacuumNow?.dbName ?? '';
        requests.push(dbName);
        const reply = answer(dbName);
        if (reply !== undefined) await router.send([identity!, encodeEnvelope({ ...reply, requestId: dec.envelope.requestId })]);
      }
    } catch (err) {
      // Closing the router ends the loop; anything else fails the test that made the request.
      if (!router.closed) throw err;
    }
  })();
  const close = (): void => router.close();
  cleanups.push(close);
  return { base, requests, close };
}

async function run(base: string, argv: string[]) {
  const io = captureIo(fakeClient({}));
  io.env = { CTDBNG_BASE: base };
  const code = await runCtdbng([...socketArgs, ...argv], io);
  return { code, out: io.out, err: io.err };
}

const report = (db: string, purged: number, pending: number, failed: number) => ({ db, purged, pending, failed });

describe('ctdbng vacuum', () => {
  test('vacuum DB --json prints exactly {"db","purged","pending","failed"} of that db', async () => {
    const v = await fakeVacuumd(() => ({ vacuumNowReply: { dbs: [report('x.db', 3, 1, 0)] } }));
    const r = await run(v.base, ['--json', 'vacuum', 'x.db']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe('{"db":"x.db","purged":3,"pending":1,"failed":0}\n');
    expect(v.requests).toEqual(['x.db']);
  });

  test('vacuum without DB asks for every db and prints {"dbs":[…]}', async () => {
    const v = await fakeVacuumd(() => ({ vacuumNowReply: { dbs: [report('a.db', 1, 0, 0), report('b.db', 0, 2, 1)] } }));
    const r = await run(v.base, ['--json', 'vacuum']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ dbs: [report('a.db', 1, 0, 0), report('b.db', 0, 2, 1)] });
    expect(v.requests).toEqual(['']);
  });

  test('vacuum prints one line per db without --json', async () => {
    const v = await fakeVacuumd(() => ({ vacuumNowReply: { dbs: [report('x.db', 3, 1, 0)] } }));
    expect((await run(v.base, ['vacuum', 'x.db'])).out).toBe('x.db: purged 3, pending 1, failed 0\n');
  });

  test('an Error reply from vacuumd exits 1 with one line naming the code', async () => {
    const v = await fakeVacuumd(() => ({ error: { code: ErrorCode.ERR_UNKNOWN_DB, message: "no volatile db 'y.db'" } }));
    const r = await run(v.base, ['--json', 'vacuum', 'y.db']);
    expect([r.code, r.out, r.err]).toEqual([1, '', "ctdbng: vacuumd: no volatile db 'y.db' (ERR_UNKNOWN_DB)\n"]);
  });

  test('vacuumd not running (no socket) exits 1 with one line at once', async () => {
    const base = tempBase();
    const r = await run(base, ['vacuum', 'x.db']);
    expect([r.code, r.out]).toEqual([1, '']);
    expect(r.err).toBe(`ctdbng: cannot reach vacuumd: no socket at ${join(base, 'run', 'vacuumd.sock')} (is ctdbng-vacuumd running?)\n`);
  });

  test('-T SECONDS bounds the wait for a pass that does not finish', async () => {
    const v = await fakeVacuumd(() => undefined);
    const r = await run(v.base, ['-T', '0.2', 'vacuum', 'x.db']);
    expect([r.code, r.out, r.err]).toEqual([1, '', 'ctdbng: no reply from vacuumd in 0.2 s\n']);
    expect(v.requests).toEqual(['x.db']);
  });
});
