/**
 * Structured fuzzing of the reader and the engine: generated archives (names in UTF-8, NFD and
 * CP932 with backslashes, stored/deflate, data descriptors, ZIP64, comments, self-extractor stubs,
 * trailing bytes, an entry over 4 MiB now and then) with 0–3 defects each (lying sizes and CRCs,
 * unsafe and duplicate names, Unicode Path fields, special files, shared data, broken local
 * headers, end record lies, truncation, bombs). An honest archive must extract to exactly its
 * files; a defective one must end with one of its defects' codes; one case in four replaces an
 * earlier extraction of the log ID; nothing may be written outside the log ID's folder.
 * `FUZZ_SEED` / `FUZZ_RUNS` override the fixed seed and the case count; `pnpm test:fuzz` runs more.
 */
import { afterAll, describe, it } from 'vitest';
import { createFuzzHarness, formatOutcomes } from '../fuzz/harness.js';
import { assertFuzz } from '../fuzz/properties.js';

const SEED = Number(process.env.FUZZ_SEED ?? 8_2026_11);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe('fuzz: structured archives through extractArchive', () => {
  const harness = createFuzzHarness({ label: 'structured' });
  afterAll(async () => {
    console.log(`fuzz structured (seed ${SEED}): ${formatOutcomes(harness.cases, harness.outcomes)}`);
    await harness.close();
  });

  it('extracts honest archives exactly and rejects defective ones with their own code', async () => {
    // Prepare
    const ctx = {
      harness,
      corpus: [],
      readerOutcomes: new Map<string, number>(),
      knownBugs: true,
    };
    // Act + Assess (the harness checks every case's invariants on disk)
    await assertFuzz('structured', ctx, { seed: SEED, numRuns: RUNS });
  }, 120_000);
});
