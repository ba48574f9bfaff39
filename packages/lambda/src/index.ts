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
export type { ArchiveWork, SkipWork, Work } from './event.js';
export { parseInvocationEvent } from './event.js';
