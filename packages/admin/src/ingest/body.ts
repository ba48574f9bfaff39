import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AdminError } from '../errors.js';

/** The start of every ZIP: a local file header, or the end record of an empty archive. */
const ZIP_SIGNATURES = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];
export const ZIP_SIGNATURE_BYTES = 4;
/** The smallest ZIP there is: an empty archive's 22-byte end record. */
export const MIN_ZIP_BYTES = 22;

export function startsLikeZip(head: Buffer): boolean {
  return ZIP_SIGNATURES.some((signature) => head.subarray(0, signature.length).equals(signature));
}

/**
 * The client's body ended before Content-Length bytes arrived (it disconnected, or sent nothing
 * for the idle timeout). Nothing is stored: the stores fail a short stream.
 */
export class ClientBodyError extends AdminError {
  readonly received: number;
  constructor(message: string, received: number, options?: ErrorOptions) {
    super('invalid_request', message, options);
    this.name = 'ClientBodyError';
    this.received = received;
  }
}

export interface UploadBodyOptions {
  /** Content-Length: the exact number of bytes the body must have. */
  size: number;
  /** A body that sends nothing for this long is cut off (the socket is destroyed). */
  idleTimeoutMs: number;
  onProgress?: (received: number) => void;
  /** Keep a SHA-256 of the body (for an Idempotency-Key: a retry must send the same bytes). */
  digest?: boolean;
}

/**
 * Reads a request body once, without buffering it: `peek()` the first bytes, then `stream()`
 * re-emits them followed by the rest, with backpressure (the store pulls). Any short end, error or
 * stall becomes a ClientBodyError, so a store's put() fails and leaves nothing behind.
 */
export class UploadBody {
  readonly #source: Readable;
  readonly #iterator: AsyncIterator<unknown>;
  readonly #options: UploadBodyOptions;
  readonly #head: Buffer[] = [];
  #received = 0;
  readonly #hash: Hash | undefined;
  #ended = false;
  #idle = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(source: Readable, options: UploadBodyOptions) {
    this.#source = source;
    this.#iterator = source[Symbol.asyncIterator]();
    this.#options = options;
    this.#hash = options.digest === true ? createHash('sha256') : undefined;
  }

  get received(): number {
    return this.#received;
  }

  /** The SHA-256 (hex) of the whole body; only once it has been read to its end. */
  digest(): string {
    if (this.#hash === undefined) throw new Error('UploadBody was made without { digest: true }');
    if (!this.#ended) throw new Error('the body has not been read to its end');
    return this.#hash.copy().digest('hex');
  }

  /** Reads the rest of the body, keeping nothing but its digest. */
  async drain(): Promise<void> {
    this.#head.splice(0);
    while ((await this.#next()) !== undefined) {
      // Each chunk is hashed by #next and dropped.
    }
  }

  /** Reads until at least `bytes` bytes (or the whole body) arrived; returns the first `bytes`. */
  async peek(bytes: number): Promise<Buffer> {
    let total = this.#head.reduce((sum, chunk) => sum + chunk.length, 0);
    while (total < bytes && !this.#ended) {
      const chunk = await this.#next();
      if (chunk === undefined) break;
      this.#head.push(chunk);
      total += chunk.length;
    }
    return Buffer.concat(this.#head).subarray(0, bytes);
  }

  /** The whole body, peeked bytes first; usable once. */
  stream(): Readable {
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield* self.#head.splice(0);
      for (;;) {
        const chunk = await self.#next();
        if (chunk === undefined) return;
        yield chunk;
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Stops the idle timer (call when done with the body, whatever happened). */
  close(): void {
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#idle = true;
      this.#source.destroy();
    }, this.#options.idleTimeoutMs);
    this.#timer.unref();
  }

  async #next(): Promise<Buffer | undefined> {
    if (this.#ended) return undefined;
    const { size } = this.#options;
    this.#arm();
    let next: IteratorResult<unknown>;
    try {
      next = await this.#iterator.next();
    } catch (error) {
      this.#ended = true;
      clearTimeout(this.#timer);
      throw this.#cutOff(error);
    }
    if (next.done) {
      this.#ended = true;
      clearTimeout(this.#timer);
      if (this.#received !== size) throw this.#cutOff(undefined);
      return undefined;
    }
    const value = next.value;
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
    this.#received += chunk.length;
    this.#hash?.update(chunk);
    this.#options.onProgress?.(this.#received);
    return chunk;
  }

  #cutOff(cause: unknown): ClientBodyError {
    const { size, idleTimeoutMs } = this.#options;
    const why = this.#idle ? `no data for ${Math.round(idleTimeoutMs / 1000)} s` : 'the client disconnected';
    return new ClientBodyError(
      `the upload was cut off after ${this.#received} of ${size} bytes (${why}): nothing was stored`,
      this.#received,
      cause === undefined ? undefined : { cause },
    );
  }
}
