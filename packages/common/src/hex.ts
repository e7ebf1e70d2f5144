// Key and data rendering shared by the daemons' logs, the CLI and tests.
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** True when bytes decode as UTF-8 and re-encode to the same bytes. */
export function isUtf8(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}
