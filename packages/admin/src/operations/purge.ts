import { parseLogId } from '@logzip/core';
import { type BulkItem, type BulkResult, summarize } from './bulk.js';
import type { Actor, OperationsContext } from './context.js';
import { describeFailure } from './failure-text.js';
import { isInsideIncoming, isLogId } from './keys.js';

export interface PurgeInput {
  logIds: string[];
  dryRun?: boolean;
}

export type PurgeOutcome = 'purged' | 'would_purge' | 'not_found' | 'refused' | 'invalid_log_id' | 'error';

const DELETE_BATCH = 1000;
const AUDITED_IDS = 200;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

async function deleteAll(ctx: OperationsContext, bucket: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    await ctx.store.deleteMany(bucket, keys.slice(i, i + DELETE_BATCH));
  }
}

/** Every incoming archive per log ID (re-uploads under other names included), listed once per call. */
async function indexArchives(ctx: OperationsContext, wanted: Set<string>): Promise<Map<string, Set<string>>> {
  const { incoming, logIdPattern } = ctx.settings;
  const byLogId = new Map<string, Set<string>>();
  for await (const object of ctx.store.list(incoming.bucket, incoming.prefix)) {
    let logId: string;
    try {
      logId = parseLogId(object.key, logIdPattern);
    } catch {
      continue;
    }
    if (!wanted.has(logId)) continue;
    const keys = byLogId.get(logId) ?? new Set<string>();
    keys.add(object.key);
    byLogId.set(logId, keys);
  }
  return byLogId;
}

async function purgeOne(
  ctx: OperationsContext,
  logId: string,
  listed: Set<string> | undefined,
  dryRun: boolean,
): Promise<BulkItem> {
  const item = (outcome: PurgeOutcome, detail: string): BulkItem => ({ logId, outcome, detail });
  const { incoming, output } = ctx.settings;
  try {
    const job = await ctx.queue.job(logId);
    if (job?.state === 'active') {
      return item(
        'refused',
        'a job is extracting this log ID right now: purge it again once the job finished',
      );
    }
    const [manifest, failure, history] = await Promise.all([
      ctx.state.getManifest(logId),
      ctx.state.getFailure(logId),
      ctx.state.listHistory(logId),
    ]);

    // Archives: every listed key, plus sources named by the state (an explicit key with another name).
    const archives = new Set(listed ?? []);
    const named = [failure?.source, manifest?.source, ...history.map((old) => old.source)];
    for (const source of named) {
      if (source === undefined || archives.has(source.key)) continue;
      if (!isInsideIncoming(ctx.settings, source.bucket, source.key)) continue;
      if ((await ctx.store.head(source.bucket, source.key)) !== undefined) archives.add(source.key);
    }

    const folder = `${output.prefix}${logId}/`;
    const files: string[] = [];
    for await (const object of ctx.store.list(output.bucket, folder)) files.push(object.key);

    const stateParts = [
      ...(manifest === undefined ? [] : ['manifest']),
      ...(history.length === 0 ? [] : [plural(history.length, 'earlier manifest')]),
      ...(failure === undefined ? [] : ['failure record']),
    ];
    const found = archives.size + files.length + stateParts.length + (job === undefined ? 0 : 1);
    if (found === 0) return item('not_found', 'no archive, files or state for this log ID');

    const described = [
      plural(archives.size, 'archive'),
      plural(files.length, 'extracted file'),
      stateParts.length === 0 ? 'no state' : stateParts.join(', '),
      ...(job === undefined ? [] : [`${job.state} queue job`]),
    ].join(', ');
    if (dryRun) return item('would_purge', `would remove ${described}`);

    // The job first so no worker writes the files again, the archive last but one, the state last:
    // a purge cut short can be run again and still finds what is left.
    if (job !== undefined && (await ctx.queue.remove(logId)) === 'active') {
      return item('refused', 'a job started extracting this log ID: purge it again once the job finished');
    }
    await deleteAll(ctx, output.bucket, files);
    await deleteAll(ctx, incoming.bucket, [...archives]);
    const removedState = await ctx.state.purge(logId);
    return item('purged', `removed ${described} (${plural(removedState.length, 'state object')})`);
  } catch (error) {
    ctx.logger.warn({ logId, err: error instanceof Error ? error.message : String(error) }, 'purge failed');
    return item('error', describeFailure(error));
  }
}

/**
 * Removes everything logzip holds for each log ID (privacy requests): its archives under the
 * incoming prefix, its extracted files, its manifests, history and failure record, and a queued
 * job. Never touches another log ID (`extracted/123/` is not `extracted/1234/`). Audited.
 */
export async function purge(
  ctx: OperationsContext,
  input: PurgeInput,
  actor: Actor,
  onProgress?: (done: number, total: number) => void,
): Promise<BulkResult> {
  const logIds = [...new Set(input.logIds)];
  const dryRun = input.dryRun ?? false;
  const valid = new Set(logIds.filter(isLogId));
  const listed = valid.size === 0 ? new Map<string, Set<string>>() : await indexArchives(ctx, valid);
  const results: BulkItem[] = [];
  onProgress?.(0, logIds.length);
  for (const logId of logIds) {
    results.push(
      isLogId(logId)
        ? await purgeOne(ctx, logId, listed.get(logId), dryRun)
        : { logId, outcome: 'invalid_log_id', detail: 'not a log ID (1-64 characters of [0-9A-Za-z_-])' },
    );
    onProgress?.(results.length, logIds.length);
  }
  const answer = summarize(results, dryRun);
  await ctx.audit.record({
    operator: actor.operator,
    action: 'purge',
    outcome: answer.summary.failed > 0 || answer.summary.notHandled > 0 ? 'error' : 'ok',
    details: {
      channel: actor.channel,
      dryRun,
      logIds: logIds.slice(0, AUDITED_IDS),
      count: logIds.length,
      outcomes: answer.summary.outcomes,
    },
  });
  return answer;
}
