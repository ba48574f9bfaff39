import { silentLogger } from '@logzip/core';
import { describe, expect, it } from 'vitest';
import { returnedIds } from '../../src/emulator/mapping.js';
import { isSqsBatchEvent, processSqsBatch, type SqsBatchEvent } from '../../src/sqs-batch.js';

function batchOf(count: number): SqsBatchEvent {
  return {
    Records: Array.from({ length: count }, (_, i) => ({
      messageId: `m${i}`,
      body: '{}',
      eventSource: 'aws:sqs',
    })),
  };
}

function contextWith(remaining: () => number) {
  return { awsRequestId: 'req-1', getRemainingTimeInMillis: remaining };
}

const plenty = contextWith(() => 600_000);

describe('processSqsBatch', () => {
  it('returns exactly the messages whose handling asked for a retry', async () => {
    // Prepare
    const bad = new Set(['m3', 'm7']);

    // Act
    const result = await processSqsBatch(batchOf(10), plenty, {
      concurrency: 4,
      safetyMarginMs: 1_000,
      logger: silentLogger,
      processMessage: async (message) => (bad.has(message.messageId) ? 'retry' : 'done'),
    });

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }, { itemIdentifier: 'm7' }]);
  });

  it('never runs more messages at once than its concurrency', async () => {
    // Prepare
    let running = 0;
    let peak = 0;

    // Act
    await processSqsBatch(batchOf(10), plenty, {
      concurrency: 3,
      safetyMarginMs: 1_000,
      logger: silentLogger,
      processMessage: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return 'done';
      },
    });

    // Assess
    expect(peak).toBe(3);
  });

  it('a crash mid-batch returns the crashed message and every unfinished one, not the finished ones', async () => {
    // Prepare
    const started: string[] = [];

    // Act
    const result = await processSqsBatch(batchOf(10), plenty, {
      concurrency: 2,
      safetyMarginMs: 1_000,
      logger: silentLogger,
      processMessage: async (message) => {
        started.push(message.messageId);
        if (message.messageId === 'm4') throw new TypeError('a bug');
        await new Promise((resolve) => setTimeout(resolve, 5));
        return 'done';
      },
    });

    // Assess
    const returned = result.batchItemFailures.map((f) => f.itemIdentifier);
    const finished = Object.entries(result.outcomes)
      .filter(([, outcome]) => outcome === 'done')
      .map(([id]) => id);
    expect(result.outcomes['m4']).toBe('crashed');
    expect(returned).toContain('m4');
    expect(returned.filter((id) => finished.includes(id))).toEqual([]);
    expect([...returned, ...finished].sort()).toEqual(
      batchOf(10)
        .Records.map((r) => r.messageId)
        .sort(),
    );
    expect(started.length).toBeLessThan(10);
  });

  it('starts no message inside the safety margin: those return unfinished', async () => {
    // Prepare: the clock runs out after three messages.
    let calls = 0;
    const context = contextWith(() => (calls < 3 ? 600_000 : 500));

    // Act
    const result = await processSqsBatch(batchOf(6), context, {
      concurrency: 1,
      safetyMarginMs: 1_000,
      logger: silentLogger,
      processMessage: async () => {
        calls += 1;
        return 'done';
      },
    });

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m3', 'm4', 'm5']);
    expect(result.outcomes['m3']).toBe('unfinished');
  });
});

describe('isSqsBatchEvent', () => {
  it('tells an SQS batch from an S3 notification', () => {
    // Assess
    expect(isSqsBatchEvent(batchOf(1))).toBe(true);
    expect(isSqsBatchEvent({ Records: [{ eventSource: 'aws:s3', s3: {} }] })).toBe(false);
    expect(isSqsBatchEvent({ Records: [] })).toBe(false);
  });
});

describe('returnedIds (the partial batch response as Lambda reads it)', () => {
  it('returns the listed ids, none for a response without the list, all for an unknown id', () => {
    // Assess
    expect(returnedIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'b'])).toEqual(['b']);
    expect(returnedIds({ results: [] }, ['a', 'b'])).toEqual([]);
    expect(returnedIds({ batchItemFailures: [{ itemIdentifier: 'zz' }] }, ['a', 'b'])).toEqual(['a', 'b']);
  });
});
