export type { WorkerConfig, WorkerConfigResult, WorkerSettings } from './config.js';
export { readWorkerConfig, unknownVariables, workerEnvSchema } from './config.js';
export type {
  Drain,
  DrainHandlerOptions,
  HandleOutcome,
  RecordLambdaFailureDeps,
  RedisDrainOptions,
  SqsDrainOptions,
} from './drain.js';
export {
  handleDestinationMessage,
  recordLambdaFailure,
  startRedisDrain,
  startSqsDrain,
} from './drain.js';
export type { HealthReport, MetricsServer } from './http.js';
export { startMetricsServer } from './http.js';
export type { WorkerMetrics, WorkerMetricsSources } from './metrics.js';
export { createWorkerMetrics } from './metrics.js';
export type { RunningWorker, StartWorkerOptions } from './worker.js';
export {
  SWEEP_QUEUE_NAME,
  SWEEP_SCHEDULER_ID,
  startWorker,
} from './worker.js';
