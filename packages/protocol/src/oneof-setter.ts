// protobufjs's setter of a oneof's name (`envelope.body = 'ok'`, which decode runs after each
// oneof field it reads) deletes every other field of the oneof, present or not: ~90 `delete`s
// for the Envelope's `body` on every message that any daemon or client decodes (3 % of a client's
// CPU on the ZeroMQ path, measured with perf). This setter deletes the same own properties, going
// through the few the object has. Like number-longs.ts it must run before the generated module
// is evaluated (the generated code builds its setters with util.oneOfSetter), so proto.ts imports
// it first.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.oneOfSetter = function oneOfSetter(fieldNames: string[]) {
  const members = new Set(fieldNames);
  return function setOneOf(this: Record<string, unknown>, name: string | undefined): void {
    for (const k of Object.keys(this)) if (k !== name && members.has(k)) delete this[k];
  };
};
