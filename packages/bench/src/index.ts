// @ctdbng/bench: the benchmarks behind `ctdbng-bench` (README.md), usable programmatically.
export { floorsBench, floorIds, latencyFigures, type FloorsOptions } from './floors.js';
export { sqliteFloor, timeSync, type SqliteFloor, type SqliteFloorOptions } from './floor-sqlite.js';
export { zmqFloor, timeAsync, forkFloorChild, type ZmqFloor, type ZmqFloorOptions, type FloorChild } from './floor-zmq.js';
export { migrationFloor, type MigrationFloor, type MigrationFloorOptions } from './floor-migration.js';
export { encodeMsg, decodeMsg, Msg, msgBytes } from './floor-child.js';
export { nodeStartRuns, timeSpawn, type SpawnRun } from './spawn-timing.js';
export { localBench, type LocalOptions } from './local.js';
export { migrateBench, type MigrateOptions } from './migrate.js';
export { concurrentBench, type ConcurrentOptions, type Layout } from './concurrent.js';
export { cliBench, type CliBenchOptions } from './cli.js';
export { cliFigures, dumpedCount, measureCliCalls, cliSeries, type CliRunner, type CliCallsResult } from './cli-calls.js';
export { traverseBench, type TraverseOptions } from './traverse.js';
export { recoveryBench, type RecoveryOptions } from './recovery.js';
export { vacuumBench, vacuumFigures, vacuumId, vacuumVariantsDefault, type VacuumOptions, type VacuumVariant } from './vacuum.js';
export { vacuumLatencyBench, type VacuumLatencyOptions, type LatencyPath } from './vacuum-latency.js';
export { startupBench, startupRuns, startupPhases, type StartupRuns } from './startup.js';
export { idleBench, idleFigures, type IdleOptions } from './idle.js';
export { parseStatTicks, processTree, treeCpu, type CpuWindow } from './proc-cpu.js';
export { nodesReady, recoveryNormal, vnnmapComplete, type CliProbe } from './readiness.js';
export { peerBench, type PeerOptions } from './peer.js';
export {
  parseLmasterLines, parsePopulate, parseUpOkAfter, parseUptimeDuration, parseVacuum, peerDirDefault, peerUnavailable,
} from './peer-ctdb.js';
export { runAll, allPlan, growthFigure, type AllOptions } from './all.js';
export { resultText, fmtValue, targetText, type BenchResult, type Figure, type Constant, type Target, type Unit } from './report.js';
export { buildRows, isMet, markdownTable, ratio, rowOf, versusText, type Row } from './rows.js';
export { benchDocument, readmeSection, replaceBetweenMarkers, readmeBegin, readmeEnd, type BenchDocument } from './document.js';
export { summarize, percentileSorted, median, opsPerSec, spreadOf, type LatencySummary, type Spread } from './stats.js';
export type { CommonOptions } from './common.js';
export { parseMetrics, metricSum, type Sample } from './cluster-ops.js';
