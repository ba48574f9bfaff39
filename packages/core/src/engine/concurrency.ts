/** How many tasks `runPool` may run at once, read before each start: a number, or a limit that moves. */
export interface ConcurrencyLimit {
  readonly current: number;
  /** The most it can ever be (the pool's lane count). */
  readonly max: number;
}

export interface AdaptiveConcurrencyOptions {
  initial: number;
  /** Never more than this, e.g. the S3 client's socket pool. */
  max: number;
}

/**
 * Write concurrency that adapts to the store: doubles after each window of clean calls until the
 * store first signals "slow down" (a retried call: 503 SlowDown, throttling, 5xx), halves on every
 * such signal, and afterwards grows by one per clean window (AIMD, as TCP does). Capped by `max`.
 *
 * @example
 * const limit = new AdaptiveConcurrency({ initial: 8, max: 64 });
 * await runPool(items, limit, async (item) => ((await put(item)).retried ? limit.throttled() : limit.succeeded()));
 */
export class AdaptiveConcurrency implements ConcurrencyLimit {
  readonly max: number;
  #current: number;
  #clean = 0;
  #slowStart = true;

  constructor(options: AdaptiveConcurrencyOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.#current = Math.min(this.max, Math.max(1, Math.floor(options.initial)));
  }

  get current(): number {
    return this.#current;
  }

  /** A call went through without retries. */
  succeeded(): void {
    this.#clean += 1;
    if (this.#clean < this.#current) return;
    this.#clean = 0;
    this.#current = Math.min(this.max, this.#slowStart ? this.#current * 2 : this.#current + 1);
  }

  /** The store asked to slow down. */
  throttled(): void {
    this.#slowStart = false;
    this.#clean = 0;
    this.#current = Math.max(1, Math.floor(this.#current / 2));
  }
}
