import { describeWithMoto } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { BulkResult } from '../../src/operations/bulk.js';
import { createHarness, goodArchive, type Harness, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';

const asAlice = { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' };

describeWithMoto('purge through the API (moto S3, real Redis)', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 's3' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app.close();
    await h.close();
  });

  async function keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    for await (const object of h.store.list(h.bucket, prefix)) found.push(object.key);
    return found.sort();
  }

  /** Log IDs whose keys share prefixes: `12`, `123`, `1234` (a purge of 123 must touch only 123). */
  async function neighbours(): Promise<void> {
    for (const [logId, key] of [
      ['12', 'incoming/12.zip'],
      ['123', 'incoming/ab/cd/123.zip'],
      ['1234', 'incoming/1234-2026-11-28.zip'],
    ] as const) {
      await h.upload(key, await goodArchive(logId));
      expect((await h.extract(logId, key)).ok).toBe(true);
    }
    // A re-upload of 123 under another name (newer: it becomes the archive) that failed.
    await h.upload('incoming/123-retry.zip', NOT_A_ZIP);
    expect((await h.extract('123', 'incoming/123-retry.zip')).ok).toBe(false);
  }

  async function purge(payload: object): Promise<BulkResult> {
    const response = await app.inject({ method: 'POST', url: '/api/purge', headers: asAlice, payload });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<BulkResult>();
  }

  it('removes exactly one log ID: its archives, extracted files and state, nothing of its neighbours', async () => {
    // Prepare
    await neighbours();
    const incomingBefore = await keys('incoming/');
    const extractedBefore = await keys('extracted/');

    // Act
    const result = await purge({ logIds: ['123'] });

    // Assess
    expect(result.results).toEqual([
      {
        logId: '123',
        outcome: 'purged',
        detail: expect.stringMatching(/^removed 2 archives, 2 extracted files, manifest, failure record/),
      },
    ]);
    expect(await keys('incoming/')).toEqual(
      incomingBefore.filter((k) => !k.endsWith('/123.zip') && k !== 'incoming/123-retry.zip'),
    );
    expect(await keys('incoming/')).toEqual(['incoming/12.zip', 'incoming/1234-2026-11-28.zip']);
    expect(await keys('extracted/')).toEqual(extractedBefore.filter((k) => !k.startsWith('extracted/123/')));
    expect(await keys('extracted/12/')).toHaveLength(2);
    expect(await keys('extracted/1234/')).toHaveLength(2);
    expect(await h.state.getManifest('123')).toBeUndefined();
    expect(await h.state.getFailure('123')).toBeUndefined();
    expect(await h.state.getManifest('12')).toBeDefined();
    expect(await h.state.getManifest('1234')).toBeDefined();
    const [audit] = await h.ctx.audit.list({ limit: 1 });
    expect(audit).toMatchObject({
      operator: 'alice',
      action: 'purge',
      details: { logIds: ['123'], dryRun: false },
    });
  });

  it('--dry-run says what would go and removes nothing; unknown IDs are not_found', async () => {
    // Prepare
    await neighbours();
    const notAudit = (all: string[]) => all.filter((key) => !key.startsWith('logzip-state/audit/'));
    const before = notAudit(await keys(''));

    // Act
    const result = await purge({ logIds: ['123', 'unknown_id'], dryRun: true });

    // Assess
    expect(result.results).toEqual([
      {
        logId: '123',
        outcome: 'would_purge',
        detail: expect.stringMatching(/^would remove 2 archives, 2 extracted files/),
      },
      { logId: 'unknown_id', outcome: 'not_found', detail: 'no archive, files or state for this log ID' },
    ]);
    expect(result.summary).toMatchObject({ dryRun: true, notHandled: 1 });
    expect(notAudit(await keys(''))).toEqual(before);
  });
});
