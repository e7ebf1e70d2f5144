// @ctdbng/bench: the benchmarks behind `ctdbng-bench` (README.md), usable programmatically.
export { localBench, type LocalOptions } from './local.js';
export { migrateBench, type MigrateOptions } from './migrate.js';
export { concurrentBench, type ConcurrentOptions, type Layout } from './concurrent.js';
export { traverseBench, type TraverseOptions } from './traverse.js';
export { recoveryBench, type RecoveryOptions } from './recovery.js';
export { vacuumBench, vacuumVariantsDefault, type VacuumOptions, type VacuumVariant } from './vacuum.js';
export { vacuumLatencyBench, type VacuumLatencyOptions, type LatencyPath } from './vacuum-latency.js';
export { startupBench, startupRuns, type StartupRuns } from './startup.js';
export { peerBench, peerUnavailable, peerDirDefault, type PeerOptions } from './peer.js';
export { markdownTable, resultText, type BenchResult, type Figure, type Comparison, type Unit } from './report.js';
export { summarize, percentileSorted, median, opsPerSec, type LatencySummary } from './stats.js';
export type { CommonOptions } from './common.js';
export { parseMetrics, metricSum, type Sample } from './cluster-ops.js';
