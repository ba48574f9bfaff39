/**
 * The state store over both ObjectStore adapters: same behaviour, same layout (filesystem in a temp
 * dir, S3 against the run's moto_server).
 */
import { randomUUID } from 'node:crypto';
import {
  createTestBucket,
  deleteTestBucket,
  MOTO_CREDENTIALS,
  motoEnabled,
  requireMoto,
  tempDir,
} from '@logzip/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { createS3Client, createS3ObjectStore } from '../../src/adapters/s3/index.js';
import { LogzipError } from '../../src/errors.js';
import type { Clock } from '../../src/ports/clock.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import { recordAttempt, resolveRecord } from '../../src/state/failures.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { AuditEntry, FailureRecord, Manifest } from '../../src/state/types.js';

interface Harness {
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

const fixedClock: Clock = { now: () => new Date('2026-11-28T12:00:00.000Z') };

function manifest(logId: string, etag: string, finishedAt: string, key = `incoming/${logId}.zip`): Manifest {
  return {
    version: 1,
    logId,
    source: { bucket: 'logs', key, etag, size: 1234 },
    output: { bucket: 'logs', prefix: 'extracted/' },
    entries: [{ path: 'app.log', key: `extracted/${logId}/app.log`, size: 10, crc32: '0a1b2c3d' }],
    bytes: 10,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 5,
    route: 'lambda',
  };
}

function failure(
  logId: string,
  code: 'storage_unavailable' | 'corrupt',
  at: string,
  route: 'lambda' | 'queue',
): FailureRecord {
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route,
    error: new LogzipError(code, `${code} happened`),
    attempt: 1,
    maxAttempts: 3,
    requestId: `req-${logId}`,
    at: new Date(at),
  });
}

function audit(at: string, action: string): AuditEntry {
  return { at, operator: 'alice', action, details: { reason: 'test' }, outcome: 'ok' };
}

async function keysUnder(h: Harness, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of h.store.list(h.bucket, prefix)) keys.push(object.key.slice(prefix.length));
  return keys;
}

function defineStateContract(name: string, enabled: boolean, open: () => Promise<Harness>): void {
  describe.runIf(enabled)(`StateStore contract: ${name}`, () => {
    let h: Harness;
    // A fresh state prefix per test keeps them independent inside the suite's bucket.
    const fresh = (): { state: StateStore; prefix: string } => {
      const prefix = `state-${randomUUID()}/`;
      return {
        state: createStateStore({ store: h.store, bucket: h.bucket, prefix, clock: fixedClock }),
        prefix,
      };
    };

    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('writes the current manifest and keeps every earlier one in the history, newest first', async () => {
      // Prepare
      const { state, prefix } = fresh();
      const first = manifest('54321', '9e107d9d372bb6826bd81d3542a419d6', '2026-11-28T10:00:00.000Z');
      const second = manifest('54321', 'e4d909c290d0fb1ca068ffaddf22cbd0', '2026-11-28T11:00:00.000Z');
      const third = manifest('54321', 'abcdef0123456789abcdef0123456789-3', '2026-11-28T12:00:00.000Z');

      // Act
      const before = await state.getManifest('54321');
      await state.putManifest(first);
      await state.putManifest(second);
      await state.putManifest(second); // the same manifest again: no new history entry
      await state.putManifest(third);

      // Assess
      expect(before).toBeUndefined();
      expect(await state.getManifest('54321')).toEqual(third);
      expect(await state.listHistory('54321')).toEqual([second, first]);
      expect(await keysUnder(h, prefix)).toEqual([
        'history/54321/2026-11-28T10:00:00.000Z-9e107d9d.json',
        'history/54321/2026-11-28T11:00:00.000Z-e4d909c2.json',
        'manifests/54321.json',
      ]);
    });

    it('retires the current manifest into the history (twice is harmless)', async () => {
      // Prepare
      const { state } = fresh();
      const current = manifest('777', 'e4d909c290d0fb1ca068ffaddf22cbd0', '2026-11-28T11:00:00.000Z');
      await state.putManifest(current);

      // Act
      await state.retireManifest('777');
      await state.retireManifest('777');
      await state.retireManifest('never-extracted');

      // Assess
      expect(await state.getManifest('777')).toBeUndefined();
      expect(await state.listHistory('777')).toEqual([current]);
      expect(await state.listHistory('never-extracted')).toEqual([]);
    });

    it('keeps one failure record per log ID and filters the list', async () => {
      // Prepare
      const { state, prefix } = fresh();
      const a = failure('a1', 'storage_unavailable', '2026-11-28T09:00:00.000Z', 'lambda');
      const b = failure('b2', 'corrupt', '2026-11-28T10:00:00.000Z', 'queue');
      const c = resolveRecord(
        failure('c3', 'storage_unavailable', '2026-11-27T08:00:00.000Z', 'lambda'),
        new Date('2026-11-28T11:00:00.000Z'),
      );
      const aAgain = recordAttempt(a, {
        logId: 'a1',
        source: a.source,
        route: 'lambda',
        error: new LogzipError('storage_unavailable', 'still down'),
        attempt: 3,
        maxAttempts: 3,
        requestId: 'req-a1',
        at: new Date('2026-11-28T12:00:00.000Z'),
      });

      // Act
      for (const record of [a, b, c, aAgain]) await state.putFailure(record);

      // Assess
      expect(await state.getFailure('a1')).toEqual(aAgain);
      expect(await state.getFailure('zz')).toBeUndefined();
      expect((await state.listFailures()).map((r) => r.logId)).toEqual(['a1', 'c3', 'b2']);
      expect((await state.listFailures({ state: 'failed' })).map((r) => r.logId)).toEqual(['a1', 'b2']);
      expect((await state.listFailures({ code: 'corrupt' })).map((r) => r.logId)).toEqual(['b2']);
      expect((await state.listFailures({ route: 'lambda' })).map((r) => r.logId)).toEqual(['a1', 'c3']);
      expect(
        (await state.listFailures({ since: new Date('2026-11-28T10:30:00.000Z') })).map((r) => r.logId),
      ).toEqual(['a1', 'c3']);
      expect(await keysUnder(h, prefix)).toEqual([
        'failures/a1.json',
        'failures/b2.json',
        'failures/c3.json',
      ]);
    });

    it('lists audit entries newest first, across days, with a limit', async () => {
      // Prepare
      const { state, prefix } = fresh();
      const entries = [
        audit('2026-11-27T23:59:59.000Z', 'route'),
        audit('2026-11-28T00:00:01.000Z', 'reenqueue'),
        audit('2026-11-28T08:30:00.000Z', 'purge'),
        audit('2026-11-28T08:30:00.500Z', 'route'),
      ];

      // Act
      for (const entry of [entries[2], entries[0], entries[3], entries[1]])
        await state.appendAudit(entry as AuditEntry);
      const all = await state.listAudit();
      const two = await state.listAudit({ limit: 2 });

      // Assess
      expect(all).toEqual([...entries].reverse());
      expect(two).toEqual([entries[3], entries[2]]);
      expect(await state.listAudit({ limit: 0 })).toEqual([]);
      const keys = await keysUnder(h, prefix);
      expect(keys).toHaveLength(4);
      expect(keys[0]).toMatch(/^audit\/2026-11-27\/2026-11-27T23:59:59\.000Z-[0-9a-f]{8}\.json$/);
      expect(keys[3]).toMatch(/^audit\/2026-11-28\/2026-11-28T08:30:00\.500Z-[0-9a-f]{8}\.json$/);
    });

    it('purges exactly one log ID: manifest, history and failure record, not its neighbours', async () => {
      // Prepare
      const { state, prefix } = fresh();
      for (const logId of ['123', '1234', '12']) {
        await state.putManifest(
          manifest(logId, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '2026-11-28T10:00:00.000Z'),
        );
        await state.putManifest(
          manifest(logId, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-11-28T11:00:00.000Z'),
        );
        await state.putFailure(failure(logId, 'corrupt', '2026-11-28T09:00:00.000Z', 'queue'));
      }
      await state.appendAudit(audit('2026-11-28T12:00:00.000Z', 'purge'));
      // Alert markers name the log ID; "123-4" is another log ID whose markers must stay.
      for (const logId of ['123', '123-4']) {
        await h.store.put(h.bucket, `${prefix}alerts/${logId}-0123456789abcdef.json`, Buffer.from('{}'));
      }

      // Act
      const removed = await state.purge('123');
      const again = await state.purge('123');

      // Assess
      expect([...removed].sort()).toEqual(
        [
          `${prefix}alerts/123-0123456789abcdef.json`,
          `${prefix}failures/123.json`,
          `${prefix}history/123/2026-11-28T10:00:00.000Z-aaaaaaaa.json`,
          `${prefix}manifests/123.json`,
        ].sort(),
      );
      expect(again).toEqual([]);
      expect(await state.getManifest('123')).toBeUndefined();
      expect(await state.getFailure('123')).toBeUndefined();
      expect(await state.listHistory('123')).toEqual([]);
      for (const neighbour of ['1234', '12']) {
        expect(await state.getManifest(neighbour)).toBeDefined();
        expect(await state.getFailure(neighbour)).toBeDefined();
        expect(await state.listHistory(neighbour)).toHaveLength(1);
      }
      expect(await state.listAudit()).toHaveLength(1);
      expect(await h.store.head(h.bucket, `${prefix}alerts/123-4-0123456789abcdef.json`)).toBeDefined();
    });

    it('refuses strings that are not log IDs before they become keys', async () => {
      // Prepare
      const { state } = fresh();

      // Act
      const attempts = await Promise.all(
        ['../etc', 'a/b', '', 'x'.repeat(65)].map((logId) =>
          state.getManifest(logId).then(
            () => undefined,
            (error: unknown) => error,
          ),
        ),
      );

      // Assess
      for (const error of attempts) expect(error).toMatchObject({ code: 'invalid_key' });
    });

    it('reports a damaged state object instead of returning garbage', async () => {
      // Prepare
      const { state, prefix } = fresh();
      await h.store.put(h.bucket, `${prefix}manifests/999.json`, Buffer.from('{"not":"a manifest"'));

      // Act
      const read = await state.getManifest('999').catch((error: unknown) => error);

      // Assess
      expect(read).toMatchObject({ code: 'internal', retryable: false });
    });
  });
}

defineStateContract('filesystem', true, async () => {
  const dir = await tempDir('state-contract');
  return { store: createFsObjectStore({ rootDir: dir.path }), bucket: 'state-bucket', cleanup: dir.cleanup };
});

defineStateContract('S3 (moto)', motoEnabled(), async () => {
  const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto() }, { credentials: MOTO_CREDENTIALS });
  const bucket = await createTestBucket(client, 'state');
  return {
    store: createS3ObjectStore({ client }),
    bucket,
    cleanup: async () => {
      await deleteTestBucket(client, bucket);
      client.destroy();
    },
  };
});
