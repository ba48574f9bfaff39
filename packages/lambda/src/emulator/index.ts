export type { DestinationPayload, DestinationSink, InvocationError } from './destination.js';
export {
  buildDestinationPayload,
  redisListDestination,
  sqsDestination,
  toInvocationError,
} from './destination.js';
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
export type { MappingEmulatorOptions, RunningMappingEmulator } from './mapping.js';
export { returnedIds, startMappingEmulator } from './mapping.js';
export type { S3Event, S3EventOptions } from './s3-event.js';
export { buildS3Event, fakeId2, fakeRequestId, nextSequencer } from './s3-event.js';
