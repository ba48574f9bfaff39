export type { BufferedStack, BufferedStackOptions } from './buffered.js';
export { bucketSendPolicy, createBufferedStack, createMotoSqsClient, motoLambdaRole } from './buffered.js';
export type {
  FaultRule,
  ProxiedRequest,
  ProxyRecord,
  S3Fault,
  S3FaultKind,
  S3FaultProxy,
  S3FaultProxyOptions,
  S3FaultProxyStats,
} from './fault-proxy.js';
export { startS3FaultProxy } from './fault-proxy.js';
export * from './fuzz/index.js';
export { claimEmptyDatabase, cleanEnv } from './local-stack.js';
export type { MotoS3ClientOptions } from './moto.js';
export {
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  motoEnabled,
  motoUrl,
  requireMoto,
} from './moto.js';
export type { MotoServer } from './moto-server.js';
export { startMotoServer } from './moto-server.js';
export type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.js';
export { startOtlpReceiver } from './otlp-receiver.js';
export { type PrivateRedis, redisServerAvailable, startPrivateRedis } from './private-redis.js';
export { describeWithRedis, redisEnabled, redisUrl, requireRedis, uniquePrefix } from './redis.js';
export { findExecutable, freePort, isCI, waitUntil } from './services.js';
export type { TempDir } from './temp.js';
export { tempDir } from './temp.js';
export {
  startWebhookReceiver,
  type WebhookMode,
  type WebhookReceiver,
  type WebhookRequest,
} from './webhook-receiver.js';
export * from './zip/index.js';
