/**
 * How big and how long the fault suite runs. `pnpm test` runs it bounded (the defaults);
 * `pnpm test:faults` raises them through the environment:
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `FAULT_ARCHIVES` | archives per round of each scenario | `12` |
 * | `FAULT_SECONDS` | each scenario repeats rounds until this many seconds have passed (at least one round) | `0` |
 * | `FAULT_SEED` | seed of every random choice (archive contents, fault draws, kill times) | random, printed |
 * | `FAULT_PROBABILITY` | chance that any S3 request gets a background fault | `0.08` |
 */
export interface FaultSettings {
  archives: number;
  seconds: number;
  seed: number;
  probability: number;
}

function positiveInt(name: string, fallback: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name}="${text}" must be a whole number from 0 to ${max}`);
  }
  return value;
}

export function readFaultSettings(): FaultSettings {
  const probabilityText = process.env['FAULT_PROBABILITY'];
  const probability = probabilityText ? Number(probabilityText) : 0.08;
  if (!(probability >= 0 && probability <= 0.5)) {
    throw new Error(`FAULT_PROBABILITY="${probabilityText}" must be a number from 0 to 0.5`);
  }
  return {
    archives: Math.max(1, positiveInt('FAULT_ARCHIVES', 12, 10_000)),
    seconds: positiveInt('FAULT_SECONDS', 0, 24 * 3600),
    seed: positiveInt('FAULT_SEED', Math.floor(Math.random() * 2 ** 31), 2 ** 32 - 1),
    probability,
  };
}

/** A test timeout that leaves room for FAULT_SECONDS of rounds plus the last round and the check. */
export function scenarioTimeoutMs(settings: FaultSettings, perArchiveMs: number, baseMs = 60_000): number {
  return baseMs + settings.seconds * 1000 * 1.5 + settings.archives * perArchiveMs;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [min, max]. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
