import { buildZip, tempDir } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { BUFFERED_ENTRY_BYTES, extractArchive } from '../../src/engine/extract.js';
import type { ExtractProgress } from '../../src/engine/types.js';
import { createStateStore } from '../../src/state/object-state-store.js';

it('regression (issue 17): the progress moves within a large entry, not only when it ends', async () => {
  // Prepare: one entry three times the size streamed instead of buffered
  const dir = await tempDir('extract-progress');
  try {
    const store = createFsObjectStore({ rootDir: dir.path });
    const size = 3 * BUFFERED_ENTRY_BYTES;
    const zip = await buildZip([{ name: 'big.log', data: Buffer.alloc(size, 'logline\n') }]);
    await store.put('logs', 'incoming/big1.zip', zip, { size: zip.length });
    const state = createStateStore({ store, bucket: 'logs', prefix: 'logzip-state/' });
    const events: ExtractProgress[] = [];

    // Act
    const result = await extractArchive(
      { source: store, output: store, state },
      {
        logId: 'big1',
        source: { bucket: 'logs', key: 'incoming/big1.zip' },
        output: { bucket: 'logs', prefix: 'extracted/' },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
        onProgress: (p) => events.push({ ...p }),
      },
    );

    // Assess
    expect(result.status).toBe('extracted');
    const within = events.filter((e) => e.entriesDone === 0 && e.bytesDone > 0 && e.bytesDone < size);
    expect(within.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({
      entriesDone: 1,
      entriesTotal: 1,
      bytesDone: size,
      bytesTotal: size,
    });
    const done = events.map((e) => e.bytesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  } finally {
    await dir.cleanup();
  }
});
