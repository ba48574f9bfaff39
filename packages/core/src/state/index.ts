export type { RecordAttemptInput } from './failures.js';
export { MAX_ATTEMPTS_KEPT, MAX_STACK_CHARS, recordAttempt, resolveRecord } from './failures.js';
