// Every error code of errors.proto maps to its own class, locally and through a reply.
import { afterEach, expect, test } from 'vitest';
import { ErrorCode, errorCodeName } from '@ctdbng/protocol';
import * as client from '../src/index.js';
import { CtdbngError, connect, errorFromReply, type Client } from '../src/index.js';
import { FakeDbd } from './fake-dbd.js';

const codes = Object.values(ErrorCode).filter((v): v is number => typeof v === 'number');

/** ERR_LOCK_LOST -> LockLostError, ERR_UNSPECIFIED -> UnspecifiedError. */
function className(code: number): string {
  const words = errorCodeName(code).replace(/^ERR_/, '').toLowerCase().split('_');
  return `${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}Error`;
}

let fake: FakeDbd | undefined;
let c: Client | undefined;
afterEach(async () => {
  await c?.close();
  await fake?.close();
});

test('errorFromReply maps every ErrorCode to its own exported class with name, code and codeName', () => {
  expect(codes.length).toBeGreaterThan(20);
  const names = new Set<string>();
  for (const code of codes) {
    const err = errorFromReply(code, 'why');
    const cls = (client as unknown as Record<string, unknown>)[className(code)];
    expect(cls, className(code)).toBeTypeOf('function');
    expect(err).toBeInstanceOf(cls as new () => Error);
    expect(err).toBeInstanceOf(CtdbngError);
    expect(err.name).toBe(className(code));
    expect(err.code).toBe(code);
    expect(err.codeName).toBe(errorCodeName(code));
    expect(err.message).toBe('why');
    names.add(err.name);
  }
  expect(names.size).toBe(codes.length);
});

test('a code this build does not know becomes a plain CtdbngError that keeps the code', () => {
  const err = errorFromReply(999, 'future');
  expect(err.constructor).toBe(CtdbngError);
  expect(err.code).toBe(999);
  expect(err.codeName).toBe('ERR_999');
});

test('an Error reply rejects the request with the class of its code', async () => {
  fake = await FakeDbd.start();
  c = await connect({ socket: fake.socket });
  fake.handler = (env) => ({ error: { code: Number(env.getTunable?.name), message: `code ${env.getTunable?.name}` } });
  for (const code of codes) {
    const err = await c.getTunable(String(code)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CtdbngError);
    expect((err as CtdbngError).name).toBe(className(code));
    expect((err as Error).stack).toContain('errors.test.ts');
  }
});
