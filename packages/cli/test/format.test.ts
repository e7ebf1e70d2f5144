import { describe, expect, test } from 'vitest';
import { ctdbEscape, parseBytesArg, textAndHex } from '../src/format/bytes.js';
import { dbmapJson, dbmapText, listvarsText, statisticsText, tunableLine } from '../src/format/misc.js';
import { listnodesJson, listnodesText, pingText, statusJson, statusText, vnnmapJson, vnnmapText } from '../src/format/nodes.js';
import { dumpedLine, flagsLine, readkeyJson, readkeyText, recordJson, recordText } from '../src/format/records.js';

const nodes = [
  { pnn: 0, address: '127.0.0.1', flags: ['OK'] },
  { pnn: 1, address: '127.0.0.2', flags: ['DISCONNECTED', 'INACTIVE'] },
  { pnn: 2, address: '127.0.0.3', flags: [] },
];

describe('bytes', () => {
  test('ctdbEscape keeps printable ASCII and writes other bytes, quote and backslash as \\XX', () => {
    expect(ctdbEscape(Buffer.from('ab "c"\\\n\x00\xff', 'latin1'))).toBe('ab \\22c\\22\\5C\\0A\\00\\FF');
  });
  test('textAndHex gives utf8 text and exact hex', () => {
    expect(textAndHex(Buffer.from('hé'))).toEqual({ text: 'hé', hex: '68c3a9' });
  });
  test('a 0x argument is hex bytes, anything else utf8', () => {
    expect(parseBytesArg('0x00ff')).toEqual(Buffer.from([0, 255]));
    expect(parseBytesArg('key')).toEqual(Buffer.from('key'));
    expect(() => parseBytesArg('0xabc')).toThrow(/hex/);
    expect(() => parseBytesArg('0xzz')).toThrow(/hex/);
  });
});

describe('records', () => {
  const r = { key: Buffer.from('k1'), header: { rsn: 7, dmaster: 2, flags: 1 }, data: Buffer.from('v\x01') };
  test('recordJson has exactly the documented fields', () => {
    expect(recordJson(r)).toEqual({ key: 'k1', keyHex: '6b31', rsn: 7, dmaster: 2, flags: ['MIGRATED_WITH_DATA'], data: 'v\x01', dataHex: '7601' });
  });
  test('recordJson turns a bigint rsn into a number', () => {
    expect(recordJson({ ...r, header: { ...r.header, rsn: 9n } }).rsn).toBe(9);
  });
  test('recordText is ctdb dump_record block', () => {
    expect(recordText(r)).toBe('key(2) = "k1"\ndmaster: 2\nrsn: 7\nflags: 0x00000001 MIGRATED_WITH_DATA\ndata(2) = "v\\01"\n\n');
  });
  test('flags line lists every known flag', () => {
    expect(flagsLine(3)).toBe('flags: 0x00000003 MIGRATED_WITH_DATA AUTOMATIC');
    expect(flagsLine(0)).toBe('flags: 0x00000000');
  });
  test('catdb and cattdb end lines are ctdb', () => {
    expect(dumpedLine(3, false)).toBe('Dumped 3 records\n');
    expect(dumpedLine(3, true)).toBe('Dumped 3 record(s)\n');
  });
  test('readkey JSON shape and ctdb text', () => {
    const res = { db: 'x.db', key: Buffer.from('k'), found: true, data: Buffer.from('hello') };
    expect(readkeyJson(res)).toEqual({ db: 'x.db', key: 'k', found: true, data: 'hello', dataHex: '68656c6c6f' });
    expect(readkeyText(res)).toBe('Data: size:5 ptr:[hello]\n');
    const none = { ...res, found: false, data: Buffer.alloc(0) };
    expect(readkeyJson(none)).toEqual({ db: 'x.db', key: 'k', found: false, data: '', dataHex: '' });
  });
});

describe('nodes', () => {
  const view = { pnn: 0, nodes, vnnmap: { generation: 1234, pnns: [0, 2] }, leader: null, frozen: false, quorum: true };
  test('status JSON has exactly the documented shape', () => {
    expect(statusJson(view)).toEqual({
      pnn: 0, generation: 1234, leader: null, vnnmap: [0, 2], quorum: true,
      nodes: [
        { pnn: 0, address: '127.0.0.1', flags: ['OK'] },
        { pnn: 1, address: '127.0.0.2', flags: ['DISCONNECTED', 'INACTIVE'] },
        { pnn: 2, address: '127.0.0.3', flags: ['OK'] },
      ],
    });
  });
  test('status text is ctdb print_status', () => {
    expect(statusText(view)).toBe([
      'Number of nodes:3',
      'pnn:0 127.0.0.1        OK (THIS NODE)',
      'pnn:1 127.0.0.2        DISCONNECTED|INACTIVE',
      'pnn:2 127.0.0.3        OK',
      'Generation:1234',
      'Size:2',
      'hash:0 lmaster:0',
      'hash:1 lmaster:2',
      'Recovery mode:NORMAL (0)',
      'Leader:UNKNOWN',
      '',
    ].join('\n'));
  });
  test('status says "no quorum" when the node reaches no majority of the nodes file (and "quorum": false in JSON)', () => {
    expect(statusText({ ...view, quorum: false })).toMatch(/\nLeader:UNKNOWN\nno quorum: [^\n]*\n$/);
    expect(statusJson({ ...view, quorum: false }).quorum).toBe(false);
    // A generation past 2^53 is a string in JSON (DESIGN §10).
    expect(statusJson({ ...view, vnnmap: { generation: 2 ** 53 + 2, pnns: [0] } }).generation).toBe(String(2 ** 53 + 2));
  });
  test('status text skips deleted nodes and counts them', () => {
    const t = statusText({ ...view, nodes: [...nodes, { pnn: 3, address: '', flags: ['DELETED'] }] });
    expect(t).toContain('Number of nodes:4 (including 1 deleted nodes)\n');
    expect(t).not.toContain('pnn:3');
  });
  test('generation 0 prints INVALID', () => {
    expect(vnnmapText({ generation: 0, pnns: [] })).toBe('Generation:INVALID\nSize:0\n');
  });
  test('getvnnmap and listnodes JSON shapes', () => {
    expect(vnnmapJson({ generation: 5, pnns: [0, 1] })).toEqual({ generation: 5, vnnmap: [0, 1] });
    expect(listnodesJson(nodes)).toEqual({ nodes: nodes.map((n) => ({ pnn: n.pnn, address: n.address })) });
    expect(listnodesText(nodes)).toBe('127.0.0.1\n127.0.0.2\n127.0.0.3\n');
  });
  test('ping text is ctdb', () => {
    expect(pingText({ pnn: 1, rttMs: 0.25 })).toBe('response from 1 time=0.000250 sec\n');
  });
});

describe('dbs, tunables, statistics', () => {
  const dbs = [{ id: 0x7a19d84d, name: 'locking.db', persistent: false, path: '/b/db/volatile/locking.db.0.sqlite' },
    { id: 1, name: 'reg.db', persistent: true, path: '/p' }];
  test('getdbmap text is ctdb', () => {
    expect(dbmapText(dbs)).toBe('Number of databases:2\ndbid:0x7a19d84d name:locking.db path:/b/db/volatile/locking.db.0.sqlite\ndbid:0x00000001 name:reg.db path:/p PERSISTENT\n');
    expect(dbmapJson(dbs)).toEqual({ dbs });
  });
  test('getvar pads the name as ctdb', () => {
    expect(tunableLine('KeepaliveInterval', 5)).toBe('KeepaliveInterval          = 5');
    expect(listvarsText([{ name: 'A', value: 1, unit: 's', doc: '', defaultValue: 1 }])).toBe(`${'A'.padEnd(26)} = 1\n`);
  });
  test('statistics text has a title and aligned counters', () => {
    expect(statisticsText({ pnn: 1, counters: { client_requests: 12 } })).toBe(`Statistics of node 1\n ${'client_requests'.padEnd(22)}    ${'12'.padStart(10)}\n`);
  });
});
