export type { BudgetDecision, BudgetInput, HandoffReason } from './budget.js';
export { planBudget } from './budget.js';
export type { LambdaConfig, LambdaConfigResult, LambdaSettings } from './config.js';
export { LAMBDA_ENV_DEFAULTS, LambdaConfigError, readLambdaConfig } from './config.js';
export type {
  HandlerDeps,
  InvocationContext,
  InvocationSummary,
  LogzipHandler,
  RecordOutcome,
  RecordSummary,
} from './create-handler.js';
export { createHandler } from './create-handler.js';
export type { ArchiveWork, RerunPayload, SkipWork, Work } from './event.js';
export { decodeS3Key, encodeS3Key, parseInvocationEvent, rerunPayloadSchema } from './event.js';
export { handler } from './handler.js';
export type {
  MessageOutcome,
  ProcessSqsBatchOptions,
  SqsBatchEvent,
  SqsBatchResponse,
  SqsBatchResult,
  SqsMessage,
} from './sqs-batch.js';
export { isSqsBatchEvent, processSqsBatch } from './sqs-batch.js';
