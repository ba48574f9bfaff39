import { buildZip, describeWithMoto, requireRedis, writeZip } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { BulkResult } from '../../src/operations/bulk.js';
import type { ArchiveStatus } from '../../src/operations/status.js';
import { createHarness, goodArchive, type Harness, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';
import { eventually, startTestWorker } from '../helpers/worker.js';

const asAlice = { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' };

describeWithMoto(
  're-enqueue through the API (moto S3, real Redis and BullMQ, the engine in a worker)',
  () => {
    let h: Harness;
    let app: FastifyInstance;
    let worker: { close(): Promise<void> } | undefined;

    beforeEach(async () => {
      h = await createHarness({ storage: 's3', trigger: 'aws' });
      app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
    });

    afterEach(async () => {
      await worker?.close();
      worker = undefined;
      await app.close();
      await h.close();
    });

    async function reenqueue(payload: object): Promise<BulkResult> {
      const response = await app.inject({ method: 'POST', url: '/api/reenqueue', headers: asAlice, payload });
      expect(response.statusCode, response.body).toBe(200);
      return response.json<BulkResult>();
    }

    /** An upload that failed (not a ZIP), then was fixed in place by the client. */
    async function failedThenFixed(logId: string, key: string): Promise<void> {
      await h.upload(key, NOT_A_ZIP);
      const failed = await h.extract(logId, key);
      expect(failed.ok).toBe(false);
      await h.upload(key, await goodArchive(logId));
    }

    it('a failed archive re-enqueued by log ID runs again and its failure record is resolved', async () => {
      // Prepare
      await failedThenFixed('54321', 'incoming/ab/cd/54321-2026-11-28.zip');
      const before = await h.state.getFailure('54321');
      worker = startTestWorker(h, requireRedis());

      // Act
      const result = await reenqueue({ logIds: ['54321'] });
      const status = await eventually(async () => {
        const response = await app.inject({ method: 'GET', url: '/api/archives/54321', headers: asAlice });
        const body = response.json<ArchiveStatus>();
        return body.extracted && body.failure?.state === 'resolved' && body.queue?.state === 'completed'
          ? body
          : undefined;
      });

      // Assess
      expect(before).toMatchObject({ state: 'failed', code: 'not_zip' });
      expect(result).toEqual({
        results: [
          {
            logId: '54321',
            outcome: 'enqueued',
            detail: expect.stringContaining('incoming/ab/cd/54321-2026-11-28.zip'),
          },
        ],
        summary: { total: 1, dryRun: false, outcomes: { enqueued: 1 }, notHandled: 0, failed: 0 },
      });
      expect(status.manifest?.entries.map((e) => e.path).sort()).toEqual(['app.log', 'logs/system.log']);
      expect(status.queue).toMatchObject({ state: 'completed', reason: 'reenqueue' });
      expect(status.timeline.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['uploaded', 'attempt_failed', 'queued', 'extracted', 'resolved']),
      );
      const [audit] = await h.ctx.audit.list({ limit: 1 });
      expect(audit).toMatchObject({
        operator: 'alice',
        action: 'reenqueue',
        outcome: 'ok',
        details: { channel: 'api', via: 'queue', logIds: ['54321'], outcomes: { enqueued: 1 } },
      });
    });

    it('reports unknown and malformed log IDs one by one and still handles the others', async () => {
      // Prepare
      await failedThenFixed('777', 'incoming/777.zip');

      // Act
      const result = await reenqueue({ logIds: ['777', 'no_such_log', 'not a log id!'] });

      // Assess
      expect(result.results).toEqual([
        { logId: '777', outcome: 'enqueued', detail: expect.any(String) },
        { logId: 'no_such_log', outcome: 'not_found', detail: 'no archive for this log ID' },
        { logId: 'not a log id!', outcome: 'invalid_log_id', detail: expect.any(String) },
      ]);
      expect(result.summary).toMatchObject({ total: 3, notHandled: 2, failed: 0 });
    });

    it('--all-failed with a code takes only failed records with that code; dry-run enqueues nothing', async () => {
      // Prepare
      await failedThenFixed('101', 'incoming/101.zip');
      const damaged = await buildZip([{ name: 'a.log', data: 'hello world\n' }], { compression: 'STORE' });
      damaged[damaged.indexOf('hello world')] = 0x48; // 'H': the stored bytes no longer match their CRC32
      await h.upload('incoming/102.zip', damaged);
      const corrupt = await h.extract('102', 'incoming/102.zip');

      // Act
      const dryRun = await reenqueue({ allFailed: true, code: 'not_zip', dryRun: true });
      const countsAfterDryRun = await h.producer.getCounts();
      const real = await reenqueue({ allFailed: true, code: 'not_zip', since: '1h' });

      // Assess
      expect(corrupt.ok).toBe(false);
      expect(corrupt.ok ? undefined : corrupt.error.code).toBe('crc_mismatch');
      expect(dryRun.results).toEqual([
        { logId: '101', outcome: 'would_enqueue', detail: 'incoming/101.zip' },
      ]);
      expect(countsAfterDryRun['waiting'] ?? 0).toBe(0);
      expect(real.results.map((r) => [r.logId, r.outcome])).toEqual([['101', 'enqueued']]);
    });

    it('skips an archive that is already extracted unless forced', async () => {
      // Prepare
      await h.upload('incoming/555.zip', await goodArchive('555'));
      expect((await h.extract('555', 'incoming/555.zip')).ok).toBe(true);

      // Act
      const plain = await reenqueue({ logIds: ['555'] });
      const forced = await reenqueue({ logIds: ['555'], force: true });
      const job = await h.producer.queue.getJob('log-555');

      // Assess
      expect(plain.results[0]?.outcome).toBe('already_extracted');
      expect(forced.results[0]?.outcome).toBe('enqueued');
      expect(job?.data).toMatchObject({
        logId: '555',
        key: 'incoming/555.zip',
        reason: 'reenqueue',
        force: true,
      });
    });

    it('--via lambda invokes the function asynchronously with the re-run payload', async () => {
      // What moto cannot prove: moto answers an Event invocation with 202 and runs nothing, so this
      // proves the call is made and accepted, not that the Lambda then extracts the archive.
      // Prepare
      await failedThenFixed('888', 'incoming/888.zip');

      // Act
      const result = await reenqueue({ logIds: ['888'], via: 'lambda' });

      // Assess
      expect(result.results[0]).toMatchObject({ logId: '888', outcome: 'invoked' });
      expect(result.results[0]?.detail).toContain('status 202');
      expect((await h.producer.getCounts())['waiting'] ?? 0).toBe(0);
    });

    it('an explicit key must be an incoming archive', async () => {
      // Prepare
      await h.upload('incoming/elsewhere/999-retry.zip', await goodArchive('999'));

      // Act
      const inside = await reenqueue({ key: 'incoming/elsewhere/999-retry.zip', dryRun: true });
      const outside = await app.inject({
        method: 'POST',
        url: '/api/reenqueue',
        headers: asAlice,
        payload: { logIds: ['999'], key: 'extracted/999/app.log' },
      });

      // Assess
      expect(inside.results).toEqual([
        { logId: '999', outcome: 'would_enqueue', detail: 'incoming/elsewhere/999-retry.zip' },
      ]);
      expect(outside.statusCode).toBe(400);
      expect(outside.json()).toMatchObject({ error: { code: 'key_outside_prefix' } });
    });

    it('--encoding re-extracts an archive whose CP437 names the default CP932 cannot read; the manifest says the encoding', async () => {
      // Prepare: names written in CP437 (é is 0x82) without the UTF-8 flag, as old Windows zip tools do.
      const cp437 = (text: string) => Buffer.from(text.replace(/é/g, '\x82'), 'latin1');
      const archive = writeZip([
        { name: cp437('café.log'), data: 'coffee\n', utf8Flag: false },
        { name: cp437('logs/résumé.log'), data: 'cv\n', utf8Flag: false },
      ]);
      await h.upload('incoming/4343.zip', archive);
      const first = await h.extract('4343', 'incoming/4343.zip');
      worker = startTestWorker(h, requireRedis());

      // Act
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/reenqueue',
        headers: asAlice,
        payload: { logIds: ['4343'], encoding: 'klingon' },
      });
      const result = await reenqueue({ logIds: ['4343'], encoding: 'cp437' });
      const manifest = await eventually(async () => h.state.getManifest('4343'));

      // Assess
      expect(first.ok ? undefined : first.error.code).toBe('undecodable_name');
      expect(first.ok ? undefined : first.error.message).toContain('cp932');
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ error: { code: 'unknown_encoding' } });
      expect(result.results).toEqual([
        { logId: '4343', outcome: 'enqueued', detail: expect.stringContaining('incoming/4343.zip') },
      ]);
      expect(manifest.nameEncoding).toBe('cp437');
      expect(manifest.entries.map((e) => [e.path, e.key]).sort()).toEqual([
        ['café.log', 'extracted/4343/café.log'],
        ['logs/résumé.log', 'extracted/4343/logs/résumé.log'],
      ]);
      expect(await h.store.get(h.bucket, 'extracted/4343/café.log')).toEqual(Buffer.from('coffee\n'));
      await eventually(async () => (await h.state.getFailure('4343'))?.state === 'resolved');
      const [audit] = await h.ctx.audit.list({ limit: 1 });
      expect(audit?.details).toMatchObject({ encoding: 'cp437', logIds: ['4343'] });
    });
  },
);
