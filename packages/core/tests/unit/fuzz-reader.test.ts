/**
 * Differential fuzzing of the archive reader: each structured or mutated archive is read from
 * memory and through the block cache (tiny blocks, as over S3 ranged GETs), and each entry both by
 * the buffered inflate and the streamed one (the engine picks one by size). The two paths must
 * agree on entries, bytes and error codes, and never throw anything but a LogzipError.
 */
import { buildSeedCorpus, type CorpusItem } from '@logzip/test-utils';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createFuzzHarness, formatOutcomes } from '../fuzz/harness.js';
import { assertFuzz } from '../fuzz/properties.js';

const SEED = Number(process.env.FUZZ_SEED ?? 8_2026_11);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe('fuzz: buffered and ranged reads of one archive agree', () => {
  const harness = createFuzzHarness({ label: 'reader' });
  const readerOutcomes = new Map<string, number>();
  let corpus: CorpusItem[];
  beforeAll(async () => {
    corpus = await buildSeedCorpus();
  });
  afterAll(async () => {
    const cases = [...readerOutcomes.values()].reduce((a, b) => a + b, 0);
    console.log(`fuzz reader (seed ${SEED}): ${formatOutcomes(cases, readerOutcomes as Map<never, number>)}`);
    await harness.close();
  });

  it('agrees on the directory, every entry and every error code', async () => {
    // Prepare
    const ctx = { harness, corpus, readerOutcomes };
    // Act + Assess
    await assertFuzz('reader', ctx, { seed: SEED, numRuns: RUNS });
  }, 120_000);
});
