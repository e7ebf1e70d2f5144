// @ctdbng/dbd: the database daemon. The core is exported for in-process tests and simulations.
export { DbdCore } from './core/dbd-core.js';
export type { CoreIo, CoreConfig, NodeStateRecord, NodeStateStore } from './core/io.js';
export { statNames, type StatName } from './core/stats.js';
