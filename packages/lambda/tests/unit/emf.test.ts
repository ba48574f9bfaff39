import { describe, expect, it } from 'vitest';
import type { RecordSummary } from '../../src/create-handler.js';
import { EMF_METRICS, EMF_NAMESPACE, type EmfRecord, formatEmfRecords } from '../../src/emf.js';

// The embedded metric format as CloudWatch documents it: `_aws.CloudWatchMetrics` directives whose
// dimension and metric names are top-level keys of the same JSON object (dimension values strings,
// metric values numbers), at most 30 dimensions per set and 100 metrics per directive.
const UNITS = new Set(['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Count', 'None']);

function specProblems(record: EmfRecord): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(record._aws.Timestamp)) problems.push('Timestamp is not an integer');
  for (const directive of record._aws.CloudWatchMetrics) {
    if (typeof directive.Namespace !== 'string' || directive.Namespace === '') problems.push('no Namespace');
    if (directive.Metrics.length > 100) problems.push('more than 100 metrics');
    for (const set of directive.Dimensions) {
      if (set.length > 30) problems.push('more than 30 dimensions');
      for (const name of set)
        if (typeof record[name] !== 'string') problems.push(`dimension ${name} has no string value`);
    }
    for (const metric of directive.Metrics) {
      if (typeof record[metric.Name] !== 'number') problems.push(`metric ${metric.Name} has no number value`);
      if (!UNITS.has(metric.Unit)) problems.push(`unit ${metric.Unit}`);
    }
  }
  return problems;
}

const context = { functionName: 'logzip-extract', timestamp: 1_764_806_400_000 };
const summaries: RecordSummary[] = [
  { outcome: 'extracted', logId: '54321', entries: 3, bytes: 4096, durationMs: 1250 },
  { outcome: 'already_extracted', logId: '54321', durationMs: 40 },
  { outcome: 'rejected', logId: '54322', code: 'corrupt', durationMs: 12 },
  { outcome: 'retrying', logId: '54323', code: 'storage_unavailable', durationMs: 900 },
  { outcome: 'failed', logId: '54324', code: 'timeout', durationMs: 900 },
  { outcome: 'handed_off', logId: '54325', reason: 'too_large' },
];

describe('formatEmfRecords', () => {
  it.each(summaries.map((s) => [s.outcome, s] as const))('writes valid EMF for a %s record', (_, summary) => {
    // Act
    const records = formatEmfRecords(summary, context);

    // Assess
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(specProblems(record)).toEqual([]);
      expect(record._aws.CloudWatchMetrics[0]?.Namespace).toBe(EMF_NAMESPACE);
      expect(record['FunctionName']).toBe('logzip-extract');
      expect(record['logId']).toBe(summary.logId);
    }
  });

  it('counts an extraction with its files, bytes and seconds', () => {
    // Act
    const records = formatEmfRecords(summaries[0] as RecordSummary, context);

    // Assess
    const values = Object.fromEntries(
      records.map((r) => {
        const name = r._aws.CloudWatchMetrics[0]?.Metrics[0]?.Name as string;
        return [name, r[name]];
      }),
    );
    expect(values).toEqual({
      jobs_completed: 1,
      job_duration_seconds: 1.25,
      extracted_bytes: 4096,
      extracted_entries: 3,
    });
    const completed = records.find((r) => 'jobs_completed' in r);
    expect(completed?.['status']).toBe('extracted');
    expect(completed?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['FunctionName'],
      ['FunctionName', 'status'],
    ]);
  });

  it('counts failures by code, final unless Lambda retries', () => {
    // Act
    const failed = (summary: RecordSummary) =>
      formatEmfRecords(summary, context).find((r) => 'jobs_failed' in r);

    // Assess
    expect(failed(summaries[2] as RecordSummary)).toMatchObject({
      code: 'corrupt',
      final: 'true',
      jobs_failed: 1,
    });
    expect(failed(summaries[3] as RecordSummary)).toMatchObject({
      code: 'storage_unavailable',
      final: 'false',
    });
    expect(failed(summaries[4] as RecordSummary)?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['FunctionName'],
      ['FunctionName', 'code'],
      ['FunctionName', 'final'],
    ]);
  });

  it('writes nothing for a skipped record', () => {
    expect(formatEmfRecords({ outcome: 'skipped', reason: 'not a zip' }, context)).toEqual([]);
  });
});

describe('EMF_METRICS', () => {
  it("are the worker's Prometheus names without logzip_worker_ and _total, where they mean the same", () => {
    for (const spec of Object.values(EMF_METRICS)) {
      if (!('prometheus' in spec)) continue;
      expect(spec.prometheus.replace(/^logzip_worker_/, '').replace(/_total$/, '')).toBe(spec.name);
    }
  });
});
