import { isAdminError } from '../errors.js';
import { ApiCallError, type Backend, exitCodeOfApiError, openBackend } from './backend.js';
import { EXIT, ExitError } from './exit.js';
import type { CliIo } from './io.js';

/** Exit codes for the admin's own error codes when the direct path raises them. */
const EXIT_OF_CODE: Record<string, number> = {
  invalid_request: EXIT.usage,
  key_outside_prefix: EXIT.usage,
  not_found: EXIT.rejected,
  conflict: EXIT.failed,
  unauthorized: EXIT.config,
  forbidden: EXIT.config,
};

/** Opens the backend, runs the command, closes the backend; turns API and admin errors into exit codes. */
export async function withBackend(io: CliIo, work: (backend: Backend) => Promise<number>): Promise<number> {
  const backend = await openBackend(io);
  try {
    return await work(backend);
  } catch (error) {
    if (error instanceof ApiCallError) {
      throw new ExitError(exitCodeOfApiError(error), `${error.code}: ${error.message}`, error.code);
    }
    if (isAdminError(error)) {
      throw new ExitError(EXIT_OF_CODE[error.code] ?? EXIT.failed, error.message, error.code);
    }
    throw error;
  } finally {
    await backend.close().catch(() => {});
  }
}
