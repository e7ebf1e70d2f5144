// @ctdbng/protocol: generated protobuf types, framing, error codes and limits (DESIGN §7).
export { ctdbng } from './proto.js';
export * from './envelope.js';
export * from './codes.js';
export * from './limits.js';
export * from './packed-records.js';
