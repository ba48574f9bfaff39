import { shardedArchiveKey } from '@logzip/core';
import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { readIngestGrants } from '../../src/config.js';
import { createHarness, goodArchive, type Harness, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';

const DEFAULT_TOKEN = 'ingest-default-token-0123456789abcdef-000';
const WIN_TOKEN = 'ingest-windows-app-token-0123456789abcdef-1';
const WIN_NEXT_TOKEN = 'ingest-windows-app-token-rotated-0123456789-2';
const MAC_TOKEN = 'ingest-mac-app-token-0123456789abcdef-00003';

describeWithRedis(
  'regression (issue 17): one ingest token could overwrite every log ID (real listening server)',
  () => {
    let h: Harness;
    let app: FastifyInstance;
    let base: string;

    function put(logId: string, token: string, body: Buffer): Promise<Response> {
      return fetch(`${base}/api/archives/${logId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
        body,
      });
    }

    beforeEach(async () => {
      h = await createHarness({ storage: 'fs', trigger: 'local' });
      const errors: string[] = [];
      // The Windows app's token is being rotated: the old and the new one both work for now.
      const grants = readIngestGrants(
        `win:W:${WIN_TOKEN}, win:W:${WIN_NEXT_TOKEN}\nmac:M:${MAC_TOKEN}`,
        errors,
      );
      expect(errors).toEqual([]);
      app = await buildApp({
        ctx: h.ctx,
        adminToken: TOKEN,
        redis: h.redis,
        logger: false,
        ingest: { token: DEFAULT_TOKEN, grants },
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });

    afterEach(async () => {
      await app?.close();
      await h?.close();
    });

    it("a leaked app token cannot overwrite, announce or ask an upload URL for another app's log ID", async () => {
      // Prepare: the Mac app's archive is stored
      const macArchive = await goodArchive('M100');
      expect((await put('M100', MAC_TOKEN, macArchive)).status).toBe(202);
      const macKey = shardedArchiveKey('incoming/', 'M100');

      // Act: the Windows token tries every ingest door on the Mac log ID
      const overwrite = await put('M100', WIN_TOKEN, NOT_A_ZIP);
      const announce = await fetch(`${base}/api/archives`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: macKey }),
      });
      const ticket = await fetch(`${base}/api/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ logId: 'M100' }),
      });

      // Assess
      for (const response of [overwrite, announce, ticket]) {
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
      }
      const stored = await h.store.head(h.bucket, macKey);
      expect(stored?.size).toBe(macArchive.length);
    });

    it('both tokens of a rotation work for their prefix, and LOGZIP_INGEST_TOKEN still opens every log ID', async () => {
      // Prepare
      const archive = await goodArchive('W1');

      // Act
      const oldToken = await put('W1', WIN_TOKEN, archive);
      const newToken = await put('W2', WIN_NEXT_TOKEN, archive);
      const byDefault = await put('M7', DEFAULT_TOKEN, archive);
      const wrong = await put('W3', `${WIN_TOKEN}x`, archive);

      // Assess
      expect([oldToken.status, newToken.status, byDefault.status]).toEqual([202, 202, 202]);
      expect(wrong.status).toBe(401);
    });
  },
);
