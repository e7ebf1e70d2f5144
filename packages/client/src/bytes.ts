// Keys and data (DESIGN §7 limits): strings are UTF-8, bytes are viewed without a copy; sizes are
// checked here before anything is sent (dbd checks again).
import { keyBytesMax, recordBytesMax } from '@ctdbng/protocol';
import { KeyTooLargeError, RecordTooLargeError } from './errors.js';

export type Bytes = Uint8Array | string;

export function toBuffer(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A record key: 1..keyBytesMax bytes. */
export function toKey(key: Bytes): Buffer {
  const buf = toBuffer(key);
  if (buf.length === 0) throw new KeyTooLargeError('empty key');
  if (buf.length > keyBytesMax) throw new KeyTooLargeError(`key of ${buf.length} bytes exceeds ${keyBytesMax}`);
  return buf;
}

/** Record data: at most recordBytesMax bytes. */
export function toData(data: Bytes): Buffer {
  const buf = toBuffer(data);
  if (buf.length > recordBytesMax) throw new RecordTooLargeError(`record of ${buf.length} bytes exceeds ${recordBytesMax}`);
  return buf;
}

/** A bytes field of a decoded message as a Buffer (protobufjs may hand out a Uint8Array). */
export function fieldBuffer(b: Uint8Array | null | undefined): Buffer {
  return b === null || b === undefined ? Buffer.alloc(0) : toBuffer(b);
}
