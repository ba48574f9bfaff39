export type { CanaryArchive, CanaryEntry } from './archive.js';
export { buildCanaryArchive, makeCanaryLogId } from './archive.js';
export type {
  CanaryDelivery,
  CanaryObservation,
  CanaryOptions,
  CanaryPorts,
  CanaryResult,
  CanaryStatus,
} from './run-canary.js';
export { runCanary } from './run-canary.js';
export type { ObservedEntry } from './verify.js';
export { compareCanaryEntries } from './verify.js';
