// generated/per-type/ (one CommonJS file per type, what the bundles of the tools load) defines the
// same types as generated/ctdbng.js and encodes and decodes the same bytes. It runs in a child
// process: both register themselves as protobufjs's default root, so one process holds one.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { encodeEnvelope, ctdbng, type EnvelopeInit } from '@ctdbng/protocol';

const perTypeIndex = fileURLToPath(new URL('../generated/per-type/ctdbng.cjs', import.meta.url));

/** Runs `script` (CommonJS) in a child that has loaded the per-type index as `v1`; returns its JSON output. */
function withPerType(script: string, input: unknown): unknown {
  const prelude = `
    const $protobuf = require('protobufjs/minimal.js');
    $protobuf.util.Long = undefined; $protobuf.configure(); // as @ctdbng/protocol's number-longs.ts
    const v1 = require(${JSON.stringify(perTypeIndex)}).ctdbng.v1;
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));`;
  const out = execFileSync(process.execPath, ['-e', `${prelude}\n${script}`], {
    cwd: fileURLToPath(new URL('..', import.meta.url)), input: JSON.stringify(input), encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** Every type's statics and prototype fields (a message) or values (an enum), as names. */
function shape(v1: Record<string, unknown>): Record<string, string[]> {
  return Object.fromEntries(Object.keys(v1).sort().map((name) => {
    const t = v1[name] as object;
    const fields = typeof t === 'function' ? Object.keys((t as { prototype: object }).prototype).map((k) => `.${k}`) : [];
    return [name, [...Object.keys(t), ...fields].sort()];
  }));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Envelopes with nested messages, repeated fields, bytes and 64-bit numbers. */
const envelopes: EnvelopeInit[] = [
  { requestId: 2 ** 40 + 3, targetPnn: 2, nodeMap: { pnn: 1, nodes: [{ pnn: 0, address: '127.0.0.1', flags: ['STOPPED', 'INACTIVE'] }, { pnn: 1, address: '127.0.0.2' }] } },
  { requestId: 9, traverseBatch: { traverseId: 4, records: [{ key: Buffer.from('k'), header: { rsn: 2 ** 40 + 7, dmaster: 2, flags: 3 }, data: Buffer.from('v') }], done: true } },
  { requestId: 1, error: { code: 7, message: 'lock lost' } },
  { requestId: 0, clientMessage: { srvid: 2 ** 33, data: Buffer.alloc(300, 1), srcPnn: 1 } },
];

describe('per-type generated code', () => {
  test('defines the same types, with the same statics and fields, as generated/ctdbng.js', () => {
    const inline = shape(ctdbng.v1 as unknown as Record<string, unknown>);
    const perType = withPerType(`
      const shape = ${shape.toString()};
      process.stdout.write(JSON.stringify(shape(v1)));`, null);
    expect(perType).toEqual(inline);
  });

  test('decodes and re-encodes to the same bytes an envelope of every body, and nested ones', () => {
    const bodies = Object.keys(ctdbng.v1.Envelope.prototype).filter((k) => (ctdbng.v1.Envelope.prototype as unknown as Record<string, unknown>)[k] === null);
    expect(bodies.length).toBeGreaterThan(50);
    const frames = [...bodies.map((b) => encodeEnvelope({ requestId: 1, [b]: {} })), ...envelopes.map((e) => encodeEnvelope(e))].map(hex);
    const again = withPerType(`
      const out = input.map((h) => Buffer.from(v1.Envelope.encode(v1.Envelope.decode(Buffer.from(h, 'hex'))).finish()).toString('hex'));
      process.stdout.write(JSON.stringify(out));`, frames);
    expect(again).toEqual(frames);
  });
});
