/**
 * Mutation fuzzing of the reader and the engine: seeds built with the fixture builders (jszip,
 * writeZip, bombs) get 1–4 mutations each (bit flips, byte splices, truncations, field overwrites
 * at header offsets, duplicated/removed/swapped central headers, extra fields with lying lengths).
 * Whatever the bytes, the run must end `extracted` (files exactly as the manifest says) or with an
 * archive code, never `internal` or a hang, and write nothing outside the log ID's folder.
 */
import { buildSeedCorpus, type CorpusItem } from '@logzip/test-utils';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createFuzzHarness, formatOutcomes } from '../fuzz/harness.js';
import { assertFuzz } from '../fuzz/properties.js';

const SEED = Number(process.env.FUZZ_SEED ?? 8_2026_11);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe('fuzz: mutated fixture archives through extractArchive', () => {
  const harness = createFuzzHarness({ label: 'mutation' });
  let corpus: CorpusItem[];
  beforeAll(async () => {
    corpus = await buildSeedCorpus();
  });
  afterAll(async () => {
    console.log(`fuzz mutation (seed ${SEED}): ${formatOutcomes(harness.cases, harness.outcomes)}`);
    await harness.close();
  });

  it('runs every unmutated seed within the invariants', async () => {
    for (const item of corpus) await harness.run(item.zip, {}, `seed ${item.name}`);
  });

  it('never crashes, hangs, reports internal, or writes outside the folder', async () => {
    // Prepare
    const ctx = { harness, corpus, readerOutcomes: new Map<string, number>() };
    // Act + Assess (the harness checks every case's invariants on disk)
    await assertFuzz('mutation', ctx, { seed: SEED, numRuns: RUNS });
  }, 120_000);
});
