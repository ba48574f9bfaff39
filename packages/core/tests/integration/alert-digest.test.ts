/**
 * Alerts by group: the digest gate in real Redis with a simulated clock (no real waiting).
 */
import { describeWithRedis, requireRedis, uniquePrefix } from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisDigestGate } from '../../src/adapters/redis-index/redis-digest-gate.js';
import type { DigestDecision } from '../../src/alerts/group-digest.js';

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
});
