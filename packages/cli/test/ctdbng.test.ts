import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runCtdbng, ttyProgress } from '../src/cli/run.js';
import { captureIo, fakeClient, rec, type FakeSeed } from './fake-client.js';

// The runner refuses a missing socket before connecting: point --socket at a file that exists.
const socketArgs = ['--socket', fileURLToPath(import.meta.url)];

const seed: FakeSeed = {
  dbs: [{
    id: 0xabc, name: 'x.db', persistent: false, path: '/n0/db/volatile/x.db.0.sqlite',
    records: [rec('a', 'one', 3, 1, 1), rec('gone', '', 5, 0, 0), rec('b', 'two', 1, 2, 0)],
  }],
  tunables: { KeepaliveInterval: 5, ControlTimeout: 10000 },
};

async function run(argv: string[], s: FakeSeed = seed, tty = false) {
  const client = fakeClient(s);
  const io = captureIo(client, tty);
  const code = await runCtdbng([...socketArgs, ...argv], io);
  return { code, out: io.out, err: io.err, client };
}

describe('ctdbng --json documents', () => {
  test('status --json is one document of the documented shape', async () => {
    const r = await run(['status', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      pnn: 0, generation: 77, leader: null, vnnmap: [0, 1, 2], quorum: true,
      nodes: [0, 1, 2].map((p) => ({ pnn: p, address: `127.0.0.${p + 1}`, flags: ['OK'] })),
    });
    expect(r.out.trim().split('\n')).toHaveLength(1);
  });

  test('readkey --json gives db, key, found, data and dataHex', async () => {
    const r = await run(['--json', 'readkey', 'x.db', 'a']);
    expect(JSON.parse(r.out)).toEqual({ db: 'x.db', key: 'a', found: true, data: 'one', dataHex: '6f6e65' });
  });

  test('readkey of a tombstone is not found', async () => {
    const r = await run(['--json', 'readkey', 'x.db', 'gone']);
    expect(JSON.parse(r.out)).toMatchObject({ found: false, data: '', dataHex: '' });
  });

  test('cattdb --json lists every local record with headers, tombstones included', async () => {
    const r = await run(['--json', 'cattdb', 'x.db']);
    const doc = JSON.parse(r.out) as { records: unknown[] };
    expect(Object.keys(doc)).toEqual(['records']);
    expect(doc.records).toHaveLength(3);
    expect(doc.records[0]).toEqual({ key: 'a', keyHex: '61', rsn: 3, dmaster: 1, flags: ['MIGRATED_WITH_DATA'], data: 'one', dataHex: '6f6e65' });
  });

  test('catdb --json lists live records only', async () => {
    const r = await run(['--json', 'catdb', 'x.db']);
    expect((JSON.parse(r.out) as { records: { key: string }[] }).records.map((x) => x.key)).toEqual(['a', 'b']);
  });

  test('the other commands print their documented objects', async () => {
    expect(JSON.parse((await run(['--json', 'pnn'])).out)).toEqual({ pnn: 0 });
    expect(JSON.parse((await run(['--json', 'getvnnmap'])).out)).toEqual({ generation: 77, vnnmap: [0, 1, 2] });
    expect(JSON.parse((await run(['--json', 'getvar', 'KeepaliveInterval'])).out)).toEqual({ name: 'KeepaliveInterval', value: 5 });
    expect(JSON.parse((await run(['--json', 'ping'])).out)).toEqual({ pnn: 0, rttMs: 0.25 });
    expect(JSON.parse((await run(['--json', 'writekey', 'x.db', 'k', 'v'])).out)).toEqual({ db: 'x.db', key: 'k', ok: true });
    expect(JSON.parse((await run(['--json', 'deletekey', 'x.db', 'k'])).out)).toEqual({ db: 'x.db', key: 'k', ok: true });
    expect(JSON.parse((await run(['--json', 'attach', 'y.db', 'persistent'])).out)).toEqual({ db: 'y.db', id: 0x1234, persistent: true });
    expect(JSON.parse((await run(['--json', 'getdbmap'])).out)).toEqual({ dbs: [{ id: 0xabc, name: 'x.db', persistent: false, path: '/n0/db/volatile/x.db.0.sqlite' }] });
    expect(Object.keys(JSON.parse((await run(['--json', 'listvars'])).out) as object)).toEqual(['tunables']);
    expect(JSON.parse((await run(['--json', 'statistics'])).out)).toEqual({ pnn: 0, counters: { client_requests: 3, migrations_in: 0 } });
    expect(JSON.parse((await run(['--json', 'listnodes'])).out)).toEqual({ nodes: [0, 1, 2].map((p) => ({ pnn: p, address: `127.0.0.${p + 1}` })) });
  });
});

describe('ctdbng human output', () => {
  test('catdb prints ctdb record blocks and the count', async () => {
    const r = await run(['catdb', 'x.db']);
    expect(r.out).toBe('key(1) = "a"\ndmaster: 1\nrsn: 3\nflags: 0x00000001 MIGRATED_WITH_DATA\ndata(3) = "one"\n\n'
      + 'key(1) = "b"\ndmaster: 2\nrsn: 1\nflags: 0x00000000\ndata(3) = "two"\n\nDumped 2 records\n');
    expect(r.err).toBe('');
  });

  test('writekey stores the value under the lock and prints nothing', async () => {
    const r = await run(['writekey', 'x.db', '0x6b', 'value']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.client.stored.get('x.db/k')).toEqual(Buffer.from('value'));
  });

  test('a db given by its 0x id is found', async () => {
    expect((await run(['readkey', '0xabc', 'a'])).out).toBe('Data: size:3 ptr:[one]\n');
  });

  test('progress goes to stderr on a TTY only and is cleared at the end', () => {
    const tty = { err: '', stderr(s: string) { this.err += s; }, stderrIsTty: true };
    const p = ttyProgress(tty);
    p.update(500);
    p.done();
    expect(tty.err).toBe('\rTraversed 500 records\r\x1b[K');
    const pipe = { err: '', stderr(s: string) { this.err += s; }, stderrIsTty: false };
    const q = ttyProgress(pipe);
    q.update(500);
    q.done();
    expect(pipe.err).toBe('');
  });
});

describe('ctdbng incrkey', () => {
  const counters: FakeSeed = {
    ...seed,
    dbs: [{ id: 0xabc, name: 'x.db', persistent: false, path: '/p', records: [rec('n', '41'), rec('word', 'forty'), rec('dead', '')] }],
  };

  test('incrkey adds 1 to the counter with one db.update and prints the new value', async () => {
    const r = await run(['incrkey', 'x.db', 'n'], counters);
    expect(r.code).toBe(0);
    expect(r.out).toBe('42\n');
    expect(r.client.stored.get('x.db/n')).toEqual(Buffer.from('42'));
  });

  test('incrkey DELTA adds DELTA (negative after --, or 0x) and --json gives db, key and value', async () => {
    expect(JSON.parse((await run(['--json', 'incrkey', 'x.db', 'n', '8'], counters)).out)).toEqual({ db: 'x.db', key: 'n', value: 49 });
    expect((await run(['incrkey', 'x.db', 'n', '--', '-50'], counters)).out).toBe('-9\n');
    expect((await run(['incrkey', 'x.db', 'n', '0x10'], counters)).out).toBe('57\n');
  });

  test('a record that is absent or a tombstone counts from 0', async () => {
    expect((await run(['incrkey', 'x.db', 'new'], counters)).out).toBe('1\n');
    expect((await run(['incrkey', 'x.db', 'dead', '5'], counters)).out).toBe('5\n');
  });

  test('a record that is not a decimal counter fails with exit 1, one line, and is left as it was', async () => {
    const r = await run(['incrkey', 'x.db', 'word'], counters);
    expect(r.code).toBe(1);
    expect(r.err).toBe('ctdbng: the record holds "forty", not a decimal counter\n');
    expect(r.client.stored.has('x.db/word')).toBe(false);
  });

  test('a DELTA that is not an integer is a usage error (exit 2); an unknown db fails with exit 1', async () => {
    expect((await run(['incrkey', 'x.db', 'n', 'many'], counters)).code).toBe(2);
    expect((await run(['incrkey', 'x.db', 'n', '1.5'], counters)).code).toBe(2);
    const r = await run(['incrkey', 'nope.db', 'n'], counters);
    expect(r.code).toBe(1);
    expect(r.err).toBe("ctdbng: no database matching 'nope.db' found\n");
  });
});

describe('ctdbng -n', () => {
  test('-n PNN addresses the control to that node', async () => {
    const r = await run(['-n', '2', 'pnn']);
    expect(r.out).toBe('2\n');
    expect(r.client.calls).toEqual([{ method: 'getPnn', pnn: 2 }]);
  });

  test('-n all --json prints an array with one document per node', async () => {
    const r = await run(['-n', 'all', '--json', 'getvar', 'KeepaliveInterval']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([0, 1, 2].map((pnn) => ({ pnn, name: 'KeepaliveInterval', value: 5 })));
  });

  test('-n all skips deleted nodes and prints a block per node', async () => {
    const nodes = [{ pnn: 0, address: '127.0.0.1', flags: ['OK'] }, { pnn: 1, address: '', flags: ['DELETED'] }];
    const r = await run(['-n', 'all', 'pnn'], { ...seed, nodes });
    expect(r.out).toBe('== node 0 ==\n0\n');
  });

  test('-n all with an unreachable node prints the others and fails with one line', async () => {
    const r = await run(['-n', 'all', '--json', 'pnn'], { ...seed, failingPnns: [1] });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual([{ pnn: 0 }, { pnn: 1, error: 'node 1 is unreachable (ERR_NODE_UNREACHABLE)' }, { pnn: 2 }]);
    expect(r.err).toBe('ctdbng: node 1: node 1 is unreachable (ERR_NODE_UNREACHABLE)\n');
  });

  test('record commands ignore -n and act on the local node', async () => {
    const r = await run(['-n', '1', '--json', 'readkey', 'x.db', 'a']);
    expect(r.client.calls.every((c) => c.pnn === undefined)).toBe(true);
    expect(JSON.parse(r.out)).toMatchObject({ found: true });
  });
});

describe('ctdbng exit status', () => {
  const usage: [string, string[]][] = [
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['--frob', 'status']],
    ['a missing argument', ['readkey', 'x.db']],
    ['too many arguments', ['pnn', 'extra']],
    ['a bad -n', ['-n', 'two', 'pnn']],
    ['a bad attach kind', ['attach', 'x.db', 'sticky']],
    ['a non-integer setvar value', ['setvar', 'KeepaliveInterval', 'five']],
    ['no command', []],
  ];
  test.each(usage)('%s is a usage error: exit 2', async (_what, argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  test.each(usage)('%s prints one line on stderr', async (_what, argv) => {
    const r = await run(argv);
    expect(r.err).toMatch(/^ctdbng: [^\n]+\n$/);
  });

  test('an unknown db fails with exit 1 and one line', async () => {
    const r = await run(['catdb', 'nope.db']);
    expect(r.code).toBe(1);
    expect(r.err).toBe("ctdbng: no database matching 'nope.db' found\n");
  });

  test('a failed control fails with exit 1, one line naming the error code', async () => {
    const r = await run(['-n', '1', 'status'], { ...seed, failingPnns: [1] });
    expect(r.code).toBe(1);
    expect(r.err).toBe('ctdbng: node 1 is unreachable (ERR_NODE_UNREACHABLE)\n');
  });

  test('a missing socket fails with exit 1 before connecting, and the client is not used', async () => {
    const client = fakeClient(seed);
    const io = captureIo(client);
    const code = await runCtdbng(['--socket', '/nonexistent/dbd.sock', 'status'], io);
    expect(code).toBe(1);
    expect(io.err).toMatch(/^ctdbng: cannot reach dbd: no socket at \/nonexistent\/dbd.sock[^\n]*\n$/);
    expect(client.calls).toEqual([]);
  });

  test('the client is closed after the command', async () => {
    expect((await run(['pnn'])).client.closed).toBe(true);
  });

  test('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: ctdbng');
  });
});
