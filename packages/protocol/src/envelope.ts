// Framing (DESIGN §7): the last ZeroMQ frame of every message is one Envelope.
// decodeEnvelope never throws on bad input: it returns a ProtocolError with the code to reply with.
import { ctdbng } from './proto.js';
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

export function encodeEnvelope(init: EnvelopeInit): Uint8Array {
  return v1.Envelope.encode(init.version === undefined ? { ...init, version: protocolVersion } : init).finish();
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
