export type { RecordAttemptInput } from './failures.js';
export {
  MAX_ATTEMPTS_KEPT,
  MAX_STACK_CHARS,
  recordAttempt,
  resolveRecord,
  runIdOfJob,
  upgradeFailureRecord,
} from './failures.js';
