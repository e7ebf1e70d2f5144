// Framing (DESIGN §7): the last ZeroMQ frame of every message is one Envelope.
// decodeEnvelope never throws on bad input: it returns a ProtocolError with the code to reply with.
import $protobuf from 'protobufjs/minimal.js';
import { ctdbng } from './proto.js';
import { envelopeBodyFields } from '../generated/envelope-body.js';
import { ErrorCode } from './codes.js';
import { frameBytesMax, protocolVersion } from './limits.js';

export const v1 = ctdbng.v1;
export type Envelope = ctdbng.v1.Envelope;
export type EnvelopeInit = ctdbng.v1.Envelope.$Properties;
export type Body = NonNullable<ctdbng.v1.Envelope['body']>;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(readonly code: ErrorCode, message: string, readonly requestId = 0) {
    super(message);
  }
}

/** Body field name → its key (field number, wire type 2) and its type's encoder. */
type BodyEncoder = { key: number; encode: (m: object, w: $protobuf.Writer) => $protobuf.Writer };
const bodyEncoders = new Map<string, BodyEncoder>();
for (const [name, id, type] of envelopeBodyFields) {
  const key = (id << 3) | 2;
  // The type is looked up on first use: its module loads lazily (scripts/lazy-types.mjs).
  const types = v1 as unknown as Record<string, { encode: BodyEncoder['encode'] }>;
  bodyEncoders.set(name, { key, encode: (m, w) => types[type]!.encode(m, w) });
}

/**
 * The bytes of `init`, as the generated Envelope.encode writes them (fields 1–4, then the body),
 * without its test of each of the ~100 body fields: the body is found among the few keys the
 * object has. A version left undefined is protocolVersion.
 */
export function encodeEnvelope(init: EnvelopeInit): Uint8Array {
  const w = $protobuf.Writer.create();
  const version = init.version ?? protocolVersion;
  if (version !== 0) w.uint32(8).uint32(version);
  const requestId = init.requestId;
  if (requestId !== undefined && requestId !== null && requestId !== 0) w.uint32(16).uint64(requestId);
  if (init.targetPnn !== undefined && init.targetPnn !== null) w.uint32(24).uint32(init.targetPnn);
  if (init.node !== undefined && init.node !== null) v1.NodeHeader.encode(init.node, w.uint32(34).fork()).ldelim();
  const fields = init as Record<string, unknown>;
  for (const name of Object.keys(init)) {
    const body = bodyEncoders.get(name);
    const m = fields[name];
    if (body === undefined || m === undefined || m === null) continue;
    body.encode(m as object, w.uint32(body.key).fork()).ldelim();
  }
  return w.finish();
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; error: ProtocolError };

/** Decodes one frame; checks size, protobuf form, version and that a body is present. */
export function decodeEnvelope(frame: Uint8Array, bytesMax = frameBytesMax): DecodeResult {
  if (frame.length > bytesMax) {
    return { ok: false, error: new ProtocolError(ErrorCode.ERR_TOO_LARGE, `frame of ${frame.length} bytes exceeds ${bytesMax}`) };
  }
  let envelope: Envelope;
  try {
    envelope = v1.Envelope.decode(frame);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: new ProtocolError(ErrorCode.ERR_BAD_MESSAGE, `undecodable envelope: ${why}`) };
  }
  const requestId = typeof envelope.requestId === 'number' ? envelope.requestId : 0;
  if (envelope.version !== protocolVersion) {
    return { ok: false, error: new ProtocolError(ErrorCode.ERR_VERSION, `protocol version ${envelope.version} is not ${protocolVersion}`, requestId) };
  }
  if (envelope.body === undefined || envelope.body === null) {
    return { ok: false, error: new ProtocolError(ErrorCode.ERR_UNKNOWN_TYPE, 'envelope without a known body', requestId) };
  }
  return { ok: true, envelope };
}

/** The error reply for a request. */
export function errorEnvelope(requestId: number, code: ErrorCode, message: string): EnvelopeInit {
  return { version: protocolVersion, requestId, error: { code, message } };
}

/**
 * A decoded message as protobufjs builds it: scalars, bytes and repeated fields always hold a
 * value (the default when absent on the wire); only sub-messages may be missing.
 */
export type Decoded<P> = {
  [K in keyof P as K extends '$unknowns' ? never : K]-?: Exclude<P[K], null | undefined> extends infer V
    ? V extends Uint8Array | readonly unknown[]
      ? V
      : V extends object
        ? V | undefined
        : V
    : never;
};

export type BodyOf<K extends Body> = Decoded<NonNullable<EnvelopeInit[K]>>;

/** The body K of a decoded envelope whose `body` is K. */
export function bodyOf<K extends Body>(env: Envelope, k: K): BodyOf<K> {
  const v = env[k];
  if (v === null || v === undefined) throw new ProtocolError(ErrorCode.ERR_UNKNOWN_TYPE, `envelope has no ${k}`);
  return v as unknown as BodyOf<K>;
}
