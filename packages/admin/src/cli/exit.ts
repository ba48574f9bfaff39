/** Exit codes of the `logzip` CLI, a contract with scripts (docs/error-codes.md). */
export const EXIT = {
  ok: 0,
  /** Failed but worth retrying (network, storage 5xx, throttling) or an internal error. */
  failed: 1,
  /** Archive rejected, or an ID not found / not handled by a bulk command. */
  rejected: 2,
  usage: 64,
  config: 78,
} as const;

/** The error code `--json` prints for an exit code when the command names none. */
const DEFAULT_CODES: Record<number, string> = {
  1: 'internal',
  2: 'not_found',
  64: 'invalid_request',
  78: 'invalid_request',
};

/** Thrown by commands to end the process with a code; only index.ts calls process.exit. */
export class ExitError extends Error {
  readonly exitCode: number;
  /** The error code printed as `{"error":{"code","message"}}` under --json. */
  readonly code: string;
  constructor(exitCode: number, message: string, code?: string) {
    super(message);
    this.name = 'ExitError';
    this.exitCode = exitCode;
    this.code = code ?? DEFAULT_CODES[exitCode] ?? 'internal';
  }
}

export function usageError(message: string): ExitError {
  return new ExitError(EXIT.usage, message);
}
