/**
 * Alerts by group: the digest gate in real Redis with a simulated clock (no real waiting).
 */
import { describeWithRedis, requireRedis, uniquePrefix, waitUntil } from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisDigestGate } from '../../src/adapters/redis-index/redis-digest-gate.js';
import { createRedisFailureGroups } from '../../src/adapters/redis-index/redis-failure-groups.js';
import type { DigestDecision } from '../../src/alerts/group-digest.js';
import { createGroupedAlerter, startDigestFlush } from '../../src/alerts/grouped-alerter.js';
import type { FailureAlerter } from '../../src/alerts/types.js';
import { LogzipError } from '../../src/errors.js';
import { recordAttempt } from '../../src/state/failures.js';
import { groupFailure } from '../../src/state/grouped-state-store.js';

const MINUTE = 60_000;

describeWithRedis('alert digests by failure group', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(requireRedis());
  });
  afterAll(async () => {
    await redis?.quit();
  });

  async function incident(intervalMs: number, failures: number, spanMs: number) {
    const gate = createRedisDigestGate({ redis, namespace: `${uniquePrefix('digest')}:` });
    const start = Date.UTC(2026, 10, 28, 3, 0);
    const sent: DigestDecision[] = [];
    for (let i = 0; i < failures; i++) {
      const decision = await gate.admit({
        fingerprint: 'aaaabbbbccccdddd',
        change: i === 0 ? 'new' : 'open',
        now: new Date(start + Math.floor((i * spanMs) / failures)),
        intervalMs,
      });
      if (decision.send !== 'none') sent.push(decision);
    }
    return sent;
  }

  it('sends 10,000 failures of one group over 10 minutes as at most 1 + 10 / interval messages, each digest with its count', async () => {
    // Act
    const everyMinute = await incident(MINUTE, 10_000, 10 * MINUTE);
    const everyTwo = await incident(2 * MINUTE, 10_000, 10 * MINUTE);

    // Assess
    expect(everyMinute[0]).toEqual({ send: 'first' });
    expect(everyMinute.length).toBeLessThanOrEqual(1 + 10);
    expect(everyMinute.length).toBeGreaterThan(1);
    expect(everyTwo.length).toBeLessThanOrEqual(1 + 5);
    const digested = everyMinute.reduce((sum, d) => sum + (d.send === 'digest' ? d.count : 0), 0);
    // Everything after the first alert is in a digest, except what waits for the next interval.
    expect(digested).toBeGreaterThan(10_000 - 1 - 1_000 - 1);
    expect(digested).toBeLessThanOrEqual(9_999);
  }, 120_000);

  it('alerts at once for a new group and for a group that reopened, and keeps groups apart', async () => {
    // Prepare
    const gate = createRedisDigestGate({ redis, namespace: `${uniquePrefix('digest')}:` });
    const now = new Date();
    const admit = (fingerprint: string, change: 'new' | 'open' | 'reopened') =>
      gate.admit({ fingerprint, change, now, intervalMs: MINUTE });

    // Act
    const decisions = [
      await admit('aaaa000000000000', 'new'),
      await admit('aaaa000000000000', 'open'),
      await admit('bbbb000000000000', 'new'),
      await admit('aaaa000000000000', 'reopened'),
    ];
    const together = await Promise.all([
      admit('cccc000000000000', 'open'),
      admit('cccc000000000000', 'open'),
    ]);

    // Assess
    expect(decisions.map((d) => d.send)).toEqual(['first', 'none', 'first', 'first']);
    // Two workers seeing a group's first failure at once: one alert, not two.
    expect(together.map((d) => d.send).sort()).toEqual(['first', 'none']);
  });

  it('the grouped alerter sends an incident of 10,000 failures as the first alert with its stack plus digests with the count and a link', async () => {
    // Prepare: a channel that records what it was asked to send; a clock the test moves
    const namespace = `${uniquePrefix('digest')}:`;
    const groups = createRedisFailureGroups({ redis, namespace });
    const sent: Array<{ logId: string; message: string; stack?: string | undefined }> = [];
    const inner: FailureAlerter = {
      enabled: true,
      notifyFailure: async (record) => {
        sent.push({ logId: record.logId, message: record.message, stack: record.stack });
        return { status: 'sent', failureId: record.logId, channels: [] };
      },
    };
    const start = Date.UTC(2026, 10, 28, 3, 0);
    let now = start;
    const alerter = createGroupedAlerter(inner, {
      gate: createRedisDigestGate({ redis, namespace }),
      groups,
      intervalMs: 2 * MINUTE,
      publicUrl: 'https://logzip.example.com/',
      clock: { now: () => new Date(now) },
    });

    // Act: 10,000 final failures of one cause, evenly over 10 simulated minutes
    for (let i = 0; i < 10_000; i++) {
      now = start + Math.floor((i * 10 * MINUTE) / 10_000);
      const error = new LogzipError('storage_unavailable', `S3 GetObject failed for ${i}`);
      error.stack = `LogzipError: x\n    at getObject (/app/s3.js:${i % 90}:1)`;
      const record = recordAttempt(undefined, {
        logId: `log${i}`,
        source: { bucket: 'logs', key: `incoming/log${i}.zip` },
        route: 'queue',
        error,
        attempt: 3,
        maxAttempts: 3,
        at: new Date(now),
      });
      await groupFailure(groups, record);
      await alerter.notifyFailure(record, { source: 'queue', jobId: `log-log${i}` });
    }

    // Assess
    expect(sent.length).toBeLessThanOrEqual(1 + 10 / 2);
    expect(sent[0]).toMatchObject({ logId: 'log0', stack: expect.stringContaining('getObject') });
    expect(sent.length).toBeGreaterThan(1);
    for (const digest of sent.slice(1)) {
      expect(digest.message).toMatch(
        /^\d+ failures of this cause since .* \(group [0-9a-f]{16}: https:\/\/logzip\.example\.com\/api\/failures\/groups\/[0-9a-f]{16}\)/,
      );
    }
  }, 180_000);

  it('flushes a due digest on its timer when no new failure of the group arrives', async () => {
    // Prepare: a short interval; the group's first failure alerts at once, two more are counted.
    const namespace = `${uniquePrefix('digest')}:`;
    const groups = createRedisFailureGroups({ redis, namespace });
    const sent: Array<{ logId: string; message: string; jobId: string | undefined }> = [];
    const inner: FailureAlerter = {
      enabled: true,
      notifyFailure: async (record, run) => {
        sent.push({ logId: record.logId, message: record.message, jobId: run.jobId });
        return { status: 'sent', failureId: record.logId, channels: [] };
      },
    };
    const intervalMs = 300;
    const alerter = createGroupedAlerter(inner, {
      gate: createRedisDigestGate({ redis, namespace }),
      groups,
      intervalMs,
      publicUrl: 'https://logzip.example.com/',
    });
    const fail = async (i: number) => {
      const error = new LogzipError('storage_unavailable', `S3 GetObject failed for ${i}`);
      error.stack = 'LogzipError: x\n    at getObject (/app/s3.js:7:1)';
      const record = recordAttempt(undefined, {
        logId: `late${i}`,
        source: { bucket: 'logs', key: `incoming/late${i}.zip` },
        route: 'queue',
        error,
        attempt: 3,
        maxAttempts: 3,
        at: new Date(),
      });
      await groupFailure(groups, record);
      return alerter.notifyFailure(record, { source: 'queue', jobId: `log-late${i}` });
    };
    const outcomes = [await fail(0), await fail(1), await fail(2)];
    const flush = startDigestFlush(alerter, intervalMs);

    // Act: no further failure; the timer alone must send the digest.
    try {
      await waitUntil(async () => sent.length >= 2, {
        timeoutMs: 20_000,
        intervalMs: 20,
        what: 'the digest',
      });
    } finally {
      await flush.stop();
    }
    const again = await alerter.flushDue();

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['sent', 'skipped', 'skipped']);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.logId).toBe('late2');
    expect(sent[1]?.jobId).toBe('log-late2');
    expect(sent[1]?.message).toMatch(
      /^2 failures of this cause since .* \(group [0-9a-f]{16}: https:\/\/logzip\.example\.com\/api\/failures\/groups\//,
    );
    expect(again).toBe(0);
  });
});
