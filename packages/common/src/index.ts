// @ctdbng/common: config, tunables, nodes file, logging, metrics, hashing, asserts.
export * from './assert.js';
export * from './fnv1a.js';
export * from './nodes-file.js';
export * from './generation.js';
export * from './tunables.js';
export * from './config.js';
export * from './log.js';
export * from './metrics.js';
export * from './hex.js';
export * from './faults.js';
export * from './send-queue.js';
export * from './timers.js';
export * from './durable-file.js';
export * from './core-io.js';
export * from './reconnect.js';
