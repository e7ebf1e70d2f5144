// Rendering of keys and data (DESIGN §10): ctdb's escaping for human output, utf8 text plus hex
// for JSON, and the parsing of a key given on the command line.
import { toHex } from '@ctdbng/common';

/** Printable ASCII except '"' and '\' as is, every other byte as \XX (ctdb's dump_tdb_data). */
export function ctdbEscape(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const printable = b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x5c;
    out += printable ? String.fromCharCode(b) : `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** ctdb's `name(N) = "..."` line. */
export function ctdbDataLine(name: string, bytes: Uint8Array): string {
  return `${name}(${bytes.length}) = "${ctdbEscape(bytes)}"`;
}

/** Text (utf8; bytes that are not utf8 become U+FFFD) and exact hex: JSON carries both. */
export function textAndHex(bytes: Uint8Array): { text: string; hex: string } {
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), hex: toHex(bytes) };
}

export class KeyArgError extends Error {
  override readonly name = 'KeyArgError';
}

/** A key or value argument: `0x` followed by hex digits is bytes (as ctdb's str_to_data), else utf8. */
export function parseBytesArg(arg: string): Buffer {
  if (!arg.startsWith('0x')) return Buffer.from(arg, 'utf8');
  const digits = arg.slice(2);
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new KeyArgError(`'${arg}' is not an even number of hex digits after 0x`);
  }
  return Buffer.from(digits, 'hex');
}
