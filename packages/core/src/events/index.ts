export type { DestinationPayload, InvocationError, LambdaFailure, ParsedDestination } from './destination.js';
export {
  buildDestinationPayload,
  codeOfDestination,
  parseDestinationMessage,
  toInvocationError,
} from './destination.js';
export type { RerunPayload } from './rerun.js';
export { rerunPayloadSchema } from './rerun.js';
export type { S3Event, S3EventOptions, S3EventRecord } from './s3-event.js';
export {
  archiveOfS3Record,
  buildS3Event,
  decodeS3Key,
  encodeS3Key,
  fakeId2,
  fakeRequestId,
  isSupportedEventVersion,
  nextSequencer,
  s3RecordRefSchema,
  s3RecordSchema,
} from './s3-event.js';
