import { isErrorCode, isLogzipError, type ObjectInfo, parseLogId, resolveArchive } from '@logzip/core';
import { AdminError } from '../errors.js';
import { type BulkItem, type BulkResult, summarize } from './bulk.js';
import type { Actor, OperationsContext } from './context.js';
import { assertSupportedEncoding } from './encoding.js';
import { describeFailure } from './failure-text.js';
import { selectFailedLogIds } from './failures.js';
import { assertInsideIncoming, isInsideIncoming, isLogId } from './keys.js';
import { runPool } from './pool.js';

export type ReenqueueVia = 'queue' | 'lambda';

export interface ReenqueueInput {
  logIds?: string[];
  /** An explicit archive key (with one log ID, or none: the log ID is taken from the key). */
  key?: string;
  /** Only the incoming bucket is accepted; given by API callers that name it. */
  bucket?: string;
  /** Every `failed` record, filtered by `code` and `since`. */
  allFailed?: boolean;
  code?: string;
  since?: Date;
  via?: ReenqueueVia;
  /** Re-extract even when the current manifest names this archive. */
  force?: boolean;
  /**
   * The fallback code page for entry names without the UTF-8 flag (instead of
   * LOGZIP_FALLBACK_ENCODING); implies force, since the archive may have been extracted under
   * wrongly decoded names.
   */
  encoding?: string;
  dryRun?: boolean;
}

export type ReenqueueOutcome =
  | 'enqueued'
  | 'already_queued'
  | 'invoked'
  | 'already_extracted'
  | 'would_enqueue'
  | 'would_invoke'
  | 'not_found'
  | 'refused'
  | 'invalid_log_id'
  | 'error';

const CONCURRENCY = 8;
const AUDITED_IDS = 200;

/** Validates a request and lists the log IDs it names (explicit ones first, then failed records). */
export async function selectLogIds(ctx: OperationsContext, input: ReenqueueInput): Promise<string[]> {
  if (input.code !== undefined && !isErrorCode(input.code)) {
    throw new AdminError('invalid_request', `"${input.code}" is not an error code`);
  }
  await assertSupportedEncoding(input.encoding);
  if (input.via === 'lambda' && ctx.lambda === undefined) {
    throw new AdminError(
      'conflict',
      'no Lambda function is configured (LOGZIP_LAMBDA_FUNCTION): use --via queue',
    );
  }
  const explicit = [...(input.logIds ?? [])];
  if (input.key !== undefined) {
    assertInsideIncoming(ctx.settings, input.bucket, input.key);
    if (explicit.length > 1)
      throw new AdminError('invalid_request', 'an explicit key goes with one log ID at most');
    if (input.allFailed)
      throw new AdminError('invalid_request', 'an explicit key cannot be combined with all failed');
    if (explicit.length === 0) {
      try {
        explicit.push(parseLogId(input.key, ctx.settings.logIdPattern));
      } catch {
        throw new AdminError('invalid_request', `no log ID in "${input.key}": name the log ID with the key`);
      }
    }
  } else if (input.bucket !== undefined) {
    throw new AdminError('invalid_request', 'a bucket is only meaningful with a key');
  }
  const filtered = input.code !== undefined || input.since !== undefined;
  if (filtered && !input.allFailed && explicit.length > 0) {
    throw new AdminError(
      'invalid_request',
      'code and since select failed records: use them with all failed, not with log IDs',
    );
  }
  const ids = new Set(explicit);
  if (input.allFailed || filtered) {
    const selected = await selectFailedLogIds(ctx, {
      ...(input.code === undefined ? {} : { code: input.code }),
      ...(input.since === undefined ? {} : { since: input.since }),
    });
    for (const logId of selected) ids.add(logId);
  } else if (ids.size === 0) {
    throw new AdminError('invalid_request', 'name at least one log ID, a key, or all failed');
  }
  return [...ids];
}

async function resolve(
  ctx: OperationsContext,
  logId: string,
  key: string | undefined,
): Promise<ObjectInfo | undefined> {
  const { settings } = ctx;
  if (key !== undefined) return ctx.store.head(settings.incoming.bucket, key);
  try {
    return await resolveArchive(ctx.store, ctx.state, logId, {
      bucket: settings.incoming.bucket,
      incomingPrefix: settings.incoming.prefix,
      logIdPattern: settings.logIdPattern,
    });
  } catch (error) {
    if (isLogzipError(error) && error.code === 'source_not_found') return undefined;
    throw error;
  }
}

async function reenqueueOne(ctx: OperationsContext, logId: string, input: ReenqueueInput): Promise<BulkItem> {
  const item = (outcome: ReenqueueOutcome, detail: string): BulkItem => ({ logId, outcome, detail });
  if (!isLogId(logId)) return item('invalid_log_id', 'not a log ID (1-64 characters of [0-9A-Za-z_-])');
  const via = input.via ?? 'queue';
  try {
    const archive = await resolve(ctx, logId, input.key);
    if (archive === undefined) {
      return item(
        'not_found',
        input.key === undefined ? 'no archive for this log ID' : `no object at ${input.key}`,
      );
    }
    if (!isInsideIncoming(ctx.settings, archive.bucket, archive.key)) {
      return item(
        'refused',
        `key_outside_prefix: ${archive.bucket}/${archive.key} is not an incoming archive`,
      );
    }
    const force = input.force === true || input.encoding !== undefined;
    if (!force) {
      const manifest = await ctx.state.getManifest(logId);
      if (
        manifest !== undefined &&
        manifest.source.key === archive.key &&
        manifest.source.etag === archive.etag
      ) {
        return item('already_extracted', `${archive.key} is already extracted (use force to run it again)`);
      }
    }
    const encoding = input.encoding === undefined ? {} : { encoding: input.encoding };
    if (input.dryRun) {
      return item(
        via === 'queue' ? 'would_enqueue' : 'would_invoke',
        `${archive.key}${force ? ' (force)' : ''}${input.encoding === undefined ? '' : ` (encoding ${input.encoding})`}`,
      );
    }
    if (via === 'lambda') {
      const lambda = ctx.lambda;
      if (lambda === undefined) return item('refused', 'no Lambda function is configured');
      const answer = await lambda.invoke({
        logId,
        bucket: archive.bucket,
        key: archive.key,
        force,
        run: 'reenqueue',
        ...encoding,
      });
      return item(
        'invoked',
        `${archive.key} → ${lambda.functionName} (status ${answer.statusCode ?? 'unknown'})`,
      );
    }
    const result = await ctx.producer.enqueue({
      logId,
      bucket: archive.bucket,
      key: archive.key,
      reason: 'reenqueue',
      ...(force ? { force: true } : {}),
      ...encoding,
    });
    if (result.outcome === 'refused') return item('refused', result.reason);
    return item(result.outcome, `${archive.key} (job ${result.jobId})`);
  } catch (error) {
    ctx.logger.warn(
      { logId, err: error instanceof Error ? error.message : String(error) },
      're-enqueue failed',
    );
    return item('error', describeFailure(error));
  }
}

/**
 * Runs log IDs again: resolves each to its archive (failure record, manifest, then the newest
 * matching key; or the explicit key), skips archives already extracted unless forced, then
 * enqueues them (`via: 'queue'`) or invokes the function asynchronously with the re-run payload
 * (`via: 'lambda'`). One result per log ID; unknown IDs are `not_found`. Audited once per call.
 */
export async function reenqueue(
  ctx: OperationsContext,
  input: ReenqueueInput,
  actor: Actor,
  onProgress?: (done: number, total: number) => void,
): Promise<BulkResult> {
  const logIds = await selectLogIds(ctx, input);
  const results: BulkItem[] = new Array(logIds.length);
  let done = 0;
  onProgress?.(0, logIds.length);
  await runPool(
    logIds.map((logId, index) => ({ logId, index })),
    CONCURRENCY,
    async ({ logId, index }) => {
      results[index] = await reenqueueOne(ctx, logId, input);
      done += 1;
      onProgress?.(done, logIds.length);
    },
  );
  const answer = summarize(results, input.dryRun ?? false);
  await ctx.audit.record({
    operator: actor.operator,
    action: 'reenqueue',
    // Honest: a log ID not found, refused or invalid was not re-enqueued, so the action is not "ok".
    outcome: answer.summary.failed > 0 || answer.summary.notHandled > 0 ? 'error' : 'ok',
    details: {
      channel: actor.channel,
      via: input.via ?? 'queue',
      force: input.force ?? false,
      ...(input.encoding === undefined ? {} : { encoding: input.encoding }),
      dryRun: input.dryRun ?? false,
      ...(input.allFailed ? { allFailed: true } : {}),
      ...(input.code === undefined ? {} : { code: input.code }),
      ...(input.since === undefined ? {} : { since: input.since.toISOString() }),
      ...(input.key === undefined ? {} : { key: input.key }),
      logIds: logIds.slice(0, AUDITED_IDS),
      count: logIds.length,
      outcomes: answer.summary.outcomes,
    },
  });
  return answer;
}
