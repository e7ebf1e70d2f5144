// The generated protobuf root, loaded after number-longs.ts so 64-bit fields decode as numbers.
import './number-longs.js';
export { ctdbng } from '../generated/ctdbng.js';
