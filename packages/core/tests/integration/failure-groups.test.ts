/**
 * Failure groups in Redis behind the state store's write-through path: real Redis, a folder
 * object store in a temp dir, a unique key namespace per test.
 */
import { randomUUID } from 'node:crypto';
import { describeWithRedis, requireRedis, type TempDir, tempDir, uniquePrefix } from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { createRedisFailureGroups } from '../../src/adapters/redis-index/redis-failure-groups.js';
import { createRedisFailureIndex } from '../../src/adapters/redis-index/redis-failure-index.js';
import { LogzipError } from '../../src/errors.js';
import type { GroupChange } from '../../src/ports/failure-groups.js';
import { recordAttempt, resolveRecord } from '../../src/state/failures.js';
import { createGroupedStateStore, groupFailure } from '../../src/state/grouped-state-store.js';
import { summarizeFailure } from '../../src/state/index-summary.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import { reindex } from '../../src/state/reindex.js';
import type { FailureRecord } from '../../src/state/types.js';

const NOW = new Date(Date.UTC(2026, 10, 28, 12, 30));

function failedAt(
  logId: string,
  entry: string,
  frames: string[],
  minutesAgo: number,
  route: 'queue' | 'lambda' = 'queue',
): FailureRecord {
  const error = new LogzipError('crc_mismatch', `entry "${entry}" of ${logId} failed its CRC check`, {
    entry,
  });
  error.stack = [
    `LogzipError: entry "${entry}" failed`,
    ...frames.map((f, i) => `    at ${f} (/var/task/${logId}/x.js:${10 + i}:${minutesAgo})`),
  ].join('\n');
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route,
    error,
    attempt: 3,
    maxAttempts: 3,
    at: new Date(NOW.getTime() - minutesAgo * 60_000),
  });
}

const CRC = ['verifyEntry', 'extractEntry'];
const HEADER = ['readLocalHeader', 'extractEntry'];

describeWithRedis('failure groups (write-through)', () => {
  let redis: Redis;
  let dir: TempDir;

  const fresh = (onGrouped?: (record: FailureRecord, change: GroupChange) => void) => {
    const groups = createRedisFailureGroups({
      redis,
      namespace: `${uniquePrefix('groups')}:`,
      now: () => NOW,
    });
    const plain = createStateStore({
      store: createFsObjectStore({ rootDir: dir.path }),
      bucket: 'logs',
      prefix: `state-${randomUUID()}/`,
    });
    return { groups, state: createGroupedStateStore(plain, groups, onGrouped ? { onGrouped } : {}) };
  };

  beforeAll(async () => {
    redis = new Redis(requireRedis());
    dir = await tempDir('groups');
  });
  afterAll(async () => {
    await redis?.quit();
    await dir?.cleanup();
  });

  it('groups one bug at other entries and log IDs together, and another stack with the same code apart', async () => {
    // Prepare
    const changes: string[] = [];
    const { groups, state } = fresh((record, change) => changes.push(`${record.logId}:${change}`));

    // Act
    await state.putFailure(failedAt('1001', 'a.log', CRC, 50));
    await state.putFailure(failedAt('1002', 'logs/b.log', CRC, 40, 'lambda'));
    await state.putFailure(failedAt('1003', 'ログ.txt', CRC, 30));
    await state.putFailure(failedAt('2001', 'a.log', HEADER, 20));
    await state.putFailure(failedAt('2002', 'c.log', HEADER, 10));
    const page = await groups.list({ limit: 10 });

    // Assess
    expect(page.total).toBe(2);
    const [header, crc] = page.items;
    expect(header).toMatchObject({ code: 'crc_mismatch', count: 2, sample: ['2002', '2001'] });
    expect(crc).toMatchObject({
      code: 'crc_mismatch',
      count: 3,
      sample: ['1003', '1002', '1001'],
      firstSeen: new Date(NOW.getTime() - 50 * 60_000).toISOString(),
      lastSeen: new Date(NOW.getTime() - 30 * 60_000).toISOString(),
    });
    expect(crc?.routes.sort()).toEqual(['lambda', 'queue']);
    expect(crc?.trend).toHaveLength(24);
    expect(crc?.trend.reduce((a, b) => a + b, 0)).toBe(3);
    expect(changes).toEqual(['1001:new', '1002:open', '1003:open', '2001:new', '2002:open']);
  });

  it('takes resolved and purged log IDs out, drops an empty group from the list, and reopens it on a new failure', async () => {
    // Prepare
    const changes: string[] = [];
    const { groups, state } = fresh((record, change) => changes.push(`${record.logId}:${change}`));
    const one = failedAt('3001', 'a.log', CRC, 5);
    await state.putFailure(one);
    await state.putFailure(failedAt('3002', 'b.log', CRC, 4));

    // Act
    await state.putFailure(resolveRecord(one, NOW));
    await state.purge('3002');
    const emptied = await groups.list({ limit: 10 });
    await state.putFailure(failedAt('3003', 'c.log', CRC, 1));
    const reopened = await groups.list({ limit: 10 });

    // Assess
    expect(emptied.total).toBe(0);
    expect(reopened.items.map((g) => [g.count, g.sample])).toEqual([[1, ['3003']]]);
    expect(changes).toEqual(['3001:new', '3002:open', '3001:left', '3003:reopened']);
  });

  it('reindex regroups from the failure records: failed ones join their group, resolved and vanished ones leave it', async () => {
    // Prepare: records written without the groups (a Lambda without Redis, or groups lost with Redis),
    // and one stale member whose record was deleted since.
    const namespace = `${uniquePrefix('regroup')}:`;
    const groups = createRedisFailureGroups({ redis, namespace, now: () => NOW });
    const index = createRedisFailureIndex({ redis, namespace });
    const store = createFsObjectStore({ rootDir: dir.path });
    const prefix = `state-${randomUUID()}/`;
    const plain = createStateStore({ store, bucket: 'logs', prefix });
    for (const [logId, minutes] of [
      ['4001', 9],
      ['4002', 7],
      ['4003', 5],
    ] as const)
      await plain.putFailure(failedAt(logId, `${logId}.log`, CRC, minutes, 'lambda'));
    await plain.putFailure(failedAt('4004', 'x.log', HEADER, 3));
    await plain.putFailure(resolveRecord(failedAt('4005', 'y.log', CRC, 8), NOW));
    const gone = failedAt('4006', 'z.log', CRC, 2);
    await groupFailure(groups, gone);
    await index.putBatch({ failures: [summarizeFailure(gone)] });
    const before = await groups.list({ limit: 10 });

    // Act
    const result = await reindex({ store, bucket: 'logs', prefix, index, groups });
    const after = await groups.list({ limit: 10 });

    // Assess
    expect(result).toMatchObject({ status: 'done', pruned: 1 });
    expect(before.items.map((g) => g.count)).toEqual([1]);
    const regrouped = after.items.map((g) => [g.count, [...g.sample].sort()]);
    expect(regrouped.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [1, ['4004']],
      [3, ['4001', '4002', '4003']],
    ]);
    expect(after.items.find((g) => g.count === 3)?.routes).toContain('lambda');
  });

  it('ignores an older record arriving after a newer one (a rebuild racing a live write)', async () => {
    // Prepare
    const { groups, state } = fresh();
    const newer = failedAt('4001', 'a.log', HEADER, 1);
    await state.putFailure(newer);

    // Act
    await state.putFailure(failedAt('4001', 'a.log', CRC, 30));
    const page = await groups.list({ limit: 10 });

    // Assess
    expect(page.items.map((g) => g.sample)).toEqual([['4001']]);
    expect(page.items[0]?.signature).toContain('readLocalHeader');
  });

  it("pages one group's log IDs newest first and scans them all", async () => {
    // Prepare
    const { groups, state } = fresh();
    for (let i = 0; i < 7; i++) await state.putFailure(failedAt(`50${i}`, `e${i}.log`, CRC, 60 - i));
    const [group] = (await groups.list({ limit: 1 })).items;
    const fingerprint = group?.fingerprint ?? '';

    // Act
    const first = await groups.members(fingerprint, { limit: 3 });
    const second = await groups.members(fingerprint, {
      limit: 3,
      ...(first.nextCursor ? { cursor: first.nextCursor } : {}),
    });
    const scanned: string[] = [];
    for await (const ids of groups.scanMembers(fingerprint, 2)) scanned.push(...ids);

    // Assess
    expect(first.items).toEqual(['506', '505', '504']);
    expect(first.total).toBe(7);
    expect(second.items).toEqual(['503', '502', '501']);
    expect(scanned.sort()).toEqual(['500', '501', '502', '503', '504', '505', '506']);
  });
});
