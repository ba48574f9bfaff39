import type { RecordSummary } from './create-handler.js';

/**
 * The Lambda's CloudWatch metrics, in the embedded metric format (EMF): one JSON line per
 * handled record on stdout, which CloudWatch Logs turns into metrics without an API call.
 *
 * Names follow the worker's Prometheus metrics where they mean the same thing: the Prometheus
 * name without its `logzip_worker_` prefix and `_total` suffix (`logzip_worker_jobs_failed_total`
 * → `jobs_failed`), with the same label names as dimensions. Every metric also has the
 * `FunctionName` dimension, alone and combined with its own dimension, so alarms can take the
 * total or one code.
 */
export const EMF_NAMESPACE = 'logzip';

export interface EmfMetricSpec {
  /** The CloudWatch metric name. */
  name: string;
  unit: 'Count' | 'Bytes' | 'Seconds';
  /** Dimensions besides FunctionName. */
  dimensions: readonly string[];
  /** The worker's Prometheus metric with the same meaning, when there is one. */
  prometheus?: string;
  help: string;
}

export const EMF_METRICS = {
  jobsCompleted: {
    name: 'jobs_completed',
    unit: 'Count',
    dimensions: ['status'],
    prometheus: 'logzip_worker_jobs_completed_total',
    help: 'Archives extracted, by status (extracted, already_extracted)',
  },
  jobsFailed: {
    name: 'jobs_failed',
    unit: 'Count',
    dimensions: ['code', 'final'],
    prometheus: 'logzip_worker_jobs_failed_total',
    help: 'Failed attempts by error code; final="true" when no retry follows (rejected archives, the last attempt)',
  },
  jobDuration: {
    name: 'job_duration_seconds',
    unit: 'Seconds',
    dimensions: ['outcome'],
    prometheus: 'logzip_worker_job_duration_seconds',
    help: 'Duration of extraction attempts, by outcome (extracted, already_extracted, failed)',
  },
  extractedBytes: {
    name: 'extracted_bytes',
    unit: 'Bytes',
    dimensions: [],
    prometheus: 'logzip_worker_extracted_bytes_total',
    help: 'Uncompressed bytes written by extractions',
  },
  extractedEntries: {
    name: 'extracted_entries',
    unit: 'Count',
    dimensions: [],
    prometheus: 'logzip_worker_extracted_entries_total',
    help: 'Files written by extractions',
  },
  handedOff: {
    name: 'jobs_handed_off',
    unit: 'Count',
    dimensions: ['reason'],
    help: 'Archives handed from the Lambda route to the queue (too large or too slow for one run)',
  },
} as const satisfies Record<string, EmfMetricSpec>;

/** One EMF line: the `_aws` directive plus the values and dimension values as top-level keys. */
export type EmfRecord = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
};

interface Sample {
  spec: EmfMetricSpec;
  value: number;
  labels: Record<string, string>;
}

function samplesOf(summary: RecordSummary): Sample[] {
  const seconds = (summary.durationMs ?? 0) / 1000;
  switch (summary.outcome) {
    case 'extracted':
    case 'already_extracted':
      return [
        { spec: EMF_METRICS.jobsCompleted, value: 1, labels: { status: summary.outcome } },
        { spec: EMF_METRICS.jobDuration, value: seconds, labels: { outcome: summary.outcome } },
        ...(summary.outcome === 'extracted'
          ? [
              { spec: EMF_METRICS.extractedBytes, value: summary.bytes ?? 0, labels: {} },
              { spec: EMF_METRICS.extractedEntries, value: summary.entries ?? 0, labels: {} },
            ]
          : []),
      ];
    case 'failed':
    case 'rejected':
    case 'retrying':
      return [
        {
          spec: EMF_METRICS.jobsFailed,
          value: 1,
          labels: { code: summary.code ?? 'internal', final: String(summary.outcome !== 'retrying') },
        },
        { spec: EMF_METRICS.jobDuration, value: seconds, labels: { outcome: 'failed' } },
      ];
    case 'handed_off':
      return [{ spec: EMF_METRICS.handedOff, value: 1, labels: { reason: summary.reason ?? 'unknown' } }];
    case 'skipped':
      return [];
  }
}

/**
 * The EMF lines for one handled record (none for a skipped one). Each metric gets its own line,
 * because EMF applies a line's dimension sets to every metric in it.
 *
 * @example
 * for (const line of formatEmfRecords(summary, { functionName: 'logzip-extract', timestamp: Date.now() }))
 *   process.stdout.write(`${JSON.stringify(line)}\n`);
 */
export function formatEmfRecords(
  summary: RecordSummary,
  context: { functionName: string; timestamp: number; awsRequestId?: string },
): EmfRecord[] {
  return samplesOf(summary).map(({ spec, value, labels }) => ({
    _aws: {
      Timestamp: context.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['FunctionName'], ...spec.dimensions.map((d) => ['FunctionName', d])],
          Metrics: [{ Name: spec.name, Unit: spec.unit }],
        },
      ],
    },
    FunctionName: context.functionName,
    ...labels,
    ...(summary.logId === undefined ? {} : { logId: summary.logId }),
    // Not a dimension: a property, so Logs Insights finds a metric line with the invocation's lines.
    ...(context.awsRequestId === undefined ? {} : { awsRequestId: context.awsRequestId }),
    [spec.name]: value,
  }));
}
