// @ctdbng/recoverd: the recovery daemon (DESIGN §5). The bin is dist/shell/main.js; the core is
// exported for tests and the simulation (test/sim).
export * from './core/io.js';
export * from './core/control.js';
export * from './core/merge.js';
export * from './core/zombie-guard.js';
export * from './core/banning.js';
export * from './core/membership.js';
export * from './core/election.js';
export * from './core/monitor.js';
export * from './core/recover-db.js';
export * from './core/db-pool.js';
export * from './core/recovery.js';
export * from './core/leader.js';
export * from './core/cluster-lock.js';
export * from './core/recoverd-core.js';
