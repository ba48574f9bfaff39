export type { BudgetDecision, BudgetInput, HandoffReason } from './budget.js';
export { planBudget } from './budget.js';
export type { LambdaConfig, LambdaConfigResult, LambdaSettings } from './config.js';
export { LambdaConfigError, lambdaEnvSchema, readLambdaConfig } from './config.js';
export type {
  HandlerDeps,
  InvocationContext,
  InvocationSummary,
  LogzipHandler,
  RecordOutcome,
  RecordSummary,
} from './create-handler.js';
export { createHandler } from './create-handler.js';
export type { EmfMetricSpec, EmfRecord } from './emf.js';
export { EMF_METRICS, EMF_NAMESPACE, formatEmfRecords } from './emf.js';
export type { ArchiveWork, SkipWork, Work } from './event.js';
export { parseInvocationEvent } from './event.js';
export type {
  MessageOutcome,
  ProcessSqsBatchOptions,
  SqsBatchEvent,
  SqsBatchResponse,
  SqsBatchResult,
  SqsMessage,
} from './sqs-batch.js';
export { isSqsBatchEvent, processSqsBatch } from './sqs-batch.js';
