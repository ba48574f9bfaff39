import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildCanaryArchive, makeCanaryLogId } from '../../src/canary/archive.js';
import { type CanaryObservation, type CanaryPorts, runCanary } from '../../src/canary/run-canary.js';
import type { Limits } from '../../src/config.js';
import { bufferReader, InflateBudget, readEntry, readZipDirectory } from '../../src/zip/index.js';

const LIMITS: Limits = { maxEntries: 1000, maxTotalBytes: 2 ** 33, maxEntryBytes: 2 ** 32, maxRatio: 1000 };
const LOG_ID = 'canary_20260101000000_ab12cd';

describe('buildCanaryArchive', () => {
  it("writes a ZIP that logzip's reader reads back: UTF-8 Japanese names, a zero-byte file, right CRCs", async () => {
    // Act
    const { zip, entries } = buildCanaryArchive(LOG_ID);

    // Assess
    const reader = bufferReader(zip);
    const directory = await readZipDirectory(reader, { fallbackEncoding: 'cp932', maxEntries: 100 });
    const read = [];
    for (const entry of directory.entries) {
      const data = await readEntry(reader, entry, new InflateBudget(LIMITS));
      read.push({
        path: entry.path,
        size: data.length,
        crc32: (crc32(data) >>> 0).toString(16).padStart(8, '0'),
      });
    }
    expect(read).toEqual(entries);
    expect(entries.map((e) => e.path)).toEqual([
      'canary/アプリ.log',
      'canary/空のファイル.txt',
      'canary/設定/表示ソフト.json',
    ]);
    expect(entries.find((e) => e.size === 0)?.crc32).toBe('00000000');
  });

  it('differs from run to run (the log ID is inside)', () => {
    expect(buildCanaryArchive('canary_a').entries[0]?.crc32).not.toBe(
      buildCanaryArchive('canary_b').entries[0]?.crc32,
    );
  });
});

describe('makeCanaryLogId', () => {
  it('fits the default log ID pattern', () => {
    const logId = makeCanaryLogId(new Date('2026-12-04T21:05:09.123Z'), 'ab12cdef');
    expect(logId).toBe('canary_20261204210509_ab12cd');
    expect(logId).toMatch(/^[0-9A-Za-z_]{1,64}$/);
  });
});

/** Ports backed by a script of observations, on a clock that moves only when the canary sleeps. */
function scriptedPorts(observations: CanaryObservation[], extra: Partial<CanaryPorts> = {}) {
  let clock = 0;
  const calls: string[] = [];
  const ports: CanaryPorts = {
    send: async (logId) => {
      calls.push(`send ${logId}`);
      return { bucket: 'b', key: `incoming/${logId}.zip`, via: 'direct' };
    },
    observe: async () => observations.shift() ?? {},
    diagnose: async () => 'the route is queue and nothing enqueued the archive',
    cleanup: async (logId) => {
      calls.push(`cleanup ${logId}`);
    },
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
    ...extra,
  };
  return { ports, calls };
}

function manifestOf(entries: ReturnType<typeof buildCanaryArchive>['entries']) {
  return {
    manifest: {
      route: 'queue',
      entries: entries.map((e) => ({ ...e, key: `extracted/${LOG_ID}/${e.path}` })),
    },
  };
}

describe('runCanary', () => {
  const { entries } = buildCanaryArchive(LOG_ID);

  it('is ok when the manifest lists every file with its size and CRC, and cleans up', async () => {
    // Prepare
    const { ports, calls } = scriptedPorts([{}, {}, manifestOf(entries)]);

    // Act
    const result = await runCanary(ports, { logId: LOG_ID, timeoutMs: 10_000, pollMs: 100 });

    // Assess
    expect(result).toMatchObject({
      status: 'ok',
      route: 'queue',
      cleanedUp: true,
      problems: [],
      durationMs: 200,
    });
    expect(calls).toEqual([`send ${LOG_ID}`, `cleanup ${LOG_ID}`]);
  });

  it('is wrong_content when a size or CRC differs, naming the file', async () => {
    // Prepare
    const bad = manifestOf(entries);
    const first = bad.manifest.entries[0];
    if (first !== undefined) first.crc32 = 'deadbeef';
    bad.manifest.entries.pop();
    const { ports } = scriptedPorts([bad]);

    // Act
    const result = await runCanary(ports, { logId: LOG_ID, timeoutMs: 10_000 });

    // Assess
    expect(result.status).toBe('wrong_content');
    expect(result.problems).toEqual([
      'canary/アプリ.log: CRC32 deadbeef, expected ' + entries[0]?.crc32,
      'canary/設定/表示ソフト.json: missing from the manifest',
    ]);
    expect(result.cleanedUp).toBe(true);
  });

  it('checks the stored bytes when it can read them', async () => {
    // Prepare
    const { ports } = scriptedPorts([manifestOf(entries)], {
      readFile: async () => Buffer.from('truncated'),
    });

    // Act
    const result = await runCanary(ports, { logId: LOG_ID, timeoutMs: 10_000 });

    // Assess
    expect(result.status).toBe('wrong_content');
    expect(result.problems[0]).toMatch(/^canary\/アプリ\.log: the stored object has 9 bytes/);
  });

  it('is wrong_content when the valid archive is rejected, failed when a retryable error ran out', async () => {
    // Act
    const rejected = await runCanary(
      scriptedPorts([{ failure: { state: 'failed', code: 'corrupt', message: 'bad' } }]).ports,
      { logId: LOG_ID, timeoutMs: 10_000 },
    );
    const unavailable = await runCanary(
      scriptedPorts([{ failure: { state: 'failed', code: 'storage_unavailable', message: 'S3 503' } }]).ports,
      { logId: LOG_ID, timeoutMs: 10_000 },
    );

    // Assess
    expect(rejected).toMatchObject({ status: 'wrong_content', cleanedUp: true });
    expect(rejected.message).toContain('rejected the valid canary archive (corrupt)');
    expect(unavailable.status).toBe('failed');
  });

  it('times out with the diagnosis, and still cleans up', async () => {
    // Prepare
    const { ports, calls } = scriptedPorts([]);

    // Act
    const result = await runCanary(ports, { logId: LOG_ID, timeoutMs: 2_000, pollMs: 500 });

    // Assess
    expect(result.status).toBe('timeout');
    expect(result.message).toBe(
      'no manifest for the canary archive after 2 s: the route is queue and nothing enqueued the archive',
    );
    expect(result.durationMs).toBe(2_000);
    expect(calls.at(-1)).toBe(`cleanup ${LOG_ID}`);
  });

  it('fails without cleaning up when the archive could not be sent', async () => {
    // Prepare
    const { ports, calls } = scriptedPorts([], {
      send: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:8080');
      },
    });

    // Act
    const result = await runCanary(ports, { logId: LOG_ID, timeoutMs: 2_000 });

    // Assess
    expect(result).toMatchObject({ status: 'failed', cleanedUp: false });
    expect(result.message).toBe('the canary archive could not be sent: connect ECONNREFUSED 127.0.0.1:8080');
    expect(calls).toEqual([]);
  });
});
