export type { DestinationSink } from './destination.js';
export { redisListDestination, sqsDestination } from './destination.js';
export type {
  EmulatedContext,
  EmulatedHandler,
  InvocationChain,
  ScanResult,
  TriggerEmulator,
  TriggerEmulatorOptions,
} from './emulator.js';
export { startTriggerEmulator } from './emulator.js';
export type { TriggerGate, TriggerGateState } from './gate.js';
export { matchesFilter, notificationGate, routeFlagGate } from './gate.js';
export type { LocalBufferedOptions, LocalBufferedStack } from './local-buffered.js';
export { provisionLocalBuffered } from './local-buffered.js';
export type { MappingEmulatorOptions, RunningMappingEmulator } from './mapping.js';
export { returnedIds, startMappingEmulator } from './mapping.js';
