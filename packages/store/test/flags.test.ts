// The store repeats the RecordFlag values of proto/ctdbng/v1/records.proto (it does not depend on
// the protocol package); this test reads the proto so the two cannot drift.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { RecordFlags } from '@ctdbng/store';

const recordsProto = readFileSync(new URL('../../../proto/ctdbng/v1/records.proto', import.meta.url), 'utf8');

function protoEnum(name: string): Record<string, number> {
  const block = new RegExp(`enum ${name} \\{([\\s\\S]*?)\\}`).exec(recordsProto);
  if (block === null) throw new Error(`records.proto has no enum ${name}`);
  return Object.fromEntries([...block[1]!.matchAll(/^\s*(\w+)\s*=\s*(\d+);/gm)].map((m) => [m[1]!, Number(m[2])]));
}

test('RecordFlags equal the RecordFlag values of records.proto, flag for flag', () => {
  const proto = protoEnum('RecordFlag');
  const fromProto = Object.fromEntries(
    Object.entries(proto).filter(([n]) => n !== 'RECORD_FLAG_NONE').map(([n, v]) => [n.replace(/^RECORD_FLAG_/, ''), v]),
  );
  expect({ ...RecordFlags }).toEqual(fromProto);
});
