export type { WorkerConfig, WorkerConfigResult, WorkerSettings } from './config.js';
export { readWorkerConfig, unknownVariables, WORKER_ENV_DEFAULTS } from './config.js';
export type {
  Drain,
  DrainHandlerOptions,
  HandleOutcome,
  LambdaFailure,
  ParsedDestination,
  RecordLambdaFailureDeps,
  RedisDrainOptions,
  SqsDrainOptions,
} from './drain.js';
export {
  codeOfDestination,
  handleDestinationMessage,
  LAMBDA_DESTINATION_KEY,
  parseDestinationMessage,
  recordLambdaFailure,
  startRedisDrain,
  startSqsDrain,
} from './drain.js';
export type { HealthReport, MetricsServer } from './http.js';
export { startMetricsServer } from './http.js';
export type { WorkerMetrics, WorkerMetricsSources } from './metrics.js';
export { createWorkerMetrics } from './metrics.js';
export type {
  OperationItemDeps,
  OperationJob,
  OperationsWorker,
  StartOperationsWorkerOptions,
} from './operations.js';
export {
  enqueueOperationRun,
  OPERATIONS_QUEUE_NAME,
  purgeItem,
  reenqueueItem,
  startOperationsWorker,
} from './operations.js';
export type { JobResult, ProcessorDeps } from './processor.js';
export { createExtractProcessor } from './processor.js';
export type { RunSweepOptions } from './run-sweep.js';
export { runSweep } from './run-sweep.js';
export type {
  SweepOptions,
  SweepOutcome,
  SweepReport,
  SweepResult,
  SweepSnapshot,
  SweepSummary,
} from './sweeper.js';
export { sweep } from './sweeper.js';
export type { RunningWorker, StartWorkerOptions } from './worker.js';
export {
  readSweepSnapshot,
  SWEEP_QUEUE_NAME,
  SWEEP_SCHEDULER_ID,
  startWorker,
  sweepSnapshotKey,
} from './worker.js';
