import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { LogzipError } from '@logzip/core';
import { AdminError } from '../errors.js';
import type { LambdaInvoker } from '../operations/context.js';

/**
 * `--via lambda`: an asynchronous invocation (InvocationType Event) with the re-run payload
 * `{logId,bucket,key,force}`; Lambda answers 202 and retries and routes failures as for S3 events.
 */
export function createLambdaInvoker(lambda: LambdaClient, functionName: string): LambdaInvoker {
  return {
    functionName,
    async invoke(payload) {
      try {
        const answer = await lambda.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(payload)),
          }),
        );
        return { statusCode: answer.StatusCode };
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const what = `invoking ${functionName} failed (${e.name ?? 'Error'})`;
        if (status !== undefined && status < 500 && status !== 429)
          throw new AdminError('conflict', what, { cause: error });
        throw new LogzipError('storage_unavailable', what, { cause: error });
      }
    },
  };
}
