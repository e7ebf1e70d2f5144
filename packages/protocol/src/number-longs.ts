// Make protobufjs decode 64-bit integers as JavaScript numbers, not Long objects.
// Must run before the generated module is evaluated (it reads util.Long for defaults),
// so index.ts imports this file first. Values we carry in uint64 fields (rsn, tokens,
// request ids, srvids) stay below 2^53; limits.ts names that bound.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
