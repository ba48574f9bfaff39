import { Counter, Gauge, type Registry } from 'prom-client';

/** What the last scheduled canary run left in Redis, shared by every worker process. */
export interface CanarySnapshot {
  /** When the last successful run finished (ISO time); absent before the first success. */
  lastSuccessAt?: string;
  /** Upload to verified manifest, in seconds, of the last run (successful or not). */
  lastDurationSeconds: number;
  /** The last run's outcome: ok, failed, wrong_content. */
  lastOutcome: string;
}

export type CanaryMetrics = ReturnType<typeof registerCanaryMetrics>;

/**
 * The canary's metrics, registered only by workers started with LOGZIP_CANARY_INTERVAL (a
 * deployment without the canary exports nothing its alert could fire on). The two gauges read the
 * shared snapshot at scrape time, so every such worker reports the same last success whichever
 * process ran it; the counter counts the runs of this process.
 */
export function registerCanaryMetrics(
  registry: Registry,
  lastRun: () => Promise<CanarySnapshot | undefined>,
) {
  const runs = new Counter({
    name: 'logzip_canary_runs_total',
    help: 'Canary runs by this process, by outcome (ok, failed, wrong_content)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const read = () => lastRun().catch(() => undefined);
  new Gauge({
    name: 'logzip_canary_last_success_timestamp_seconds',
    help: 'When the last canary archive came back complete and correct (Unix time)',
    registers: [registry],
    async collect() {
      const at = (await read())?.lastSuccessAt;
      if (at !== undefined) this.set(Date.parse(at) / 1000);
    },
  });
  new Gauge({
    name: 'logzip_canary_last_duration_seconds',
    help: 'Upload to verified manifest, of the last canary run',
    registers: [registry],
    async collect() {
      const last = await read();
      if (last !== undefined) this.set(last.lastDurationSeconds);
    },
  });
  return { runs };
}
