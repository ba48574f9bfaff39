import type { FaultRule, S3Fault } from '@logzip/test-utils';
import { pick } from './settings.js';

/** What the proxy does to one archive on top of the background faults. */
export type ArchivePlan =
  /** Only the background faults. */
  | 'background'
  /** The archive's GET fails more often than the SDK retries (500 InternalError): the first attempt fails. */
  | 'burst-500'
  /**
   * The archive's body is cut mid-way (connection reset) once: the SDK does not retry an error in a
   * body it has started to return, so this alone fails the first attempt.
   */
  | 'burst-reset'
  /** Every write of an extracted file after the first two is 503 SlowDown: retries run out. */
  | 'exhaust';

/**
 * Chooses each archive's plan: exactly one archive per batch exhausts its retries, about a third
 * get a burst that fails their first attempt, the rest only the background faults.
 *
 * One doomed archive per batch, not more: every request that still fails after the SDK's retries
 * spends 10 of the 500 tokens of the SDK client's retry quota for good, and a drained quota stops
 * the SDK from retrying anything in that process (every background fault then costs a whole
 * attempt). A batch of doomed archives writing 8 files at a time drains it within a round.
 */
export function planArchives(random: () => number, logIds: readonly string[]): Map<string, ArchivePlan> {
  const plans = new Map<string, ArchivePlan>();
  const doomed = Math.floor(random() * logIds.length);
  logIds.forEach((logId, i) => {
    const draw = random();
    plans.set(
      logId,
      i === doomed
        ? 'exhaust'
        : draw < 1 / 3
          ? pick(random, ['burst-500', 'burst-reset'] as const)
          : 'background',
    );
  });
  return plans;
}

/** The proxy rules of a plan (S3 clients make 3 attempts per request, so 3 faults fail one call). */
export function archiveRules(
  bucket: string,
  archive: { logId: string; key: string },
  plan: ArchivePlan,
  outputPrefix = 'extracted/',
): FaultRule[] {
  const object = `/${bucket}/${archive.key}`;
  switch (plan) {
    case 'background':
      return [];
    case 'burst-500':
      return [{ name: 'burst', method: 'GET', path: object, times: 3, fault: { kind: 'internal-error' } }];
    case 'burst-reset':
      return [{ name: 'burst', method: 'GET', path: object, times: 1, fault: { kind: 'reset-mid-body' } }];
    case 'exhaust':
      return [
        {
          name: 'exhaust',
          method: 'PUT',
          path: `/${bucket}/${outputPrefix}${archive.logId}/`,
          // Two files land before the failures start: the cleanup after each attempt must remove them.
          skip: 2,
          fault: { kind: 'slow-down' },
        },
      ];
  }
}

/**
 * Background faults on every request to the bucket, each kind with an equal share of
 * `probability`: 500 InternalError, 503 SlowDown, a reset mid-body, a reset before any response,
 * and 150 ms of latency.
 */
export function backgroundRules(bucket: string, probability: number): FaultRule[] {
  const kinds: S3Fault[] = [
    { kind: 'internal-error' },
    { kind: 'slow-down' },
    { kind: 'reset-mid-body' },
    { kind: 'reset' },
    { kind: 'latency', ms: 150 },
  ];
  // Rules are tried in order; a rule that loses its draw lets the next one try.
  return kinds.map((fault, i) => ({
    name: `background-${fault.kind}`,
    path: `/${bucket}/`,
    probability: probability / (kinds.length - i * probability),
    fault,
  }));
}
