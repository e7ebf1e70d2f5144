// @ctdbng/vacuumd: the vacuuming daemon (DESIGN §4). The bin is dist/shell/main.js; the core is
// exported for the simulation (test/sim) and for tests.
export * from './core/dbd-port.js';
export * from './core/dbd-requests.js';
export * from './core/state-file.js';
export * from './core/retry-backoff.js';
export * from './core/pass-counts.js';
export * from './core/pause-on-freeze.js';
export * from './core/pacing.js';
export * from './core/space.js';
export * from './core/vacuum-pass.js';
export * from './core/pass-scheduler.js';
export * from './core/vacuum-core.js';
export { verdictFor, BatchRunner, type ItemOutcome, type BatchResult, type BatchStep } from './core/vacuum-item.js';
