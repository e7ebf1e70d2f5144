// The generated protobuf root, loaded after number-longs.ts so 64-bit fields decode as numbers,
// and after oneof-setter.ts (a cheaper setter of a oneof's name).
import './number-longs.js';
import './oneof-setter.js';
export { ctdbng } from '../generated/ctdbng.js';
