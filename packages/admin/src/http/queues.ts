import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { AdminError, errorBody } from '../errors.js';
import { mapError } from './errors.js';

type HTTPStatus = NonNullable<ReturnType<Parameters<FastifyAdapter['setErrorHandler']>[0]>['status']>;

export const QUEUES_PATH = '/queues';

/**
 * bull-board at /queues, read-only: its retry, clean and promote buttons would change jobs past
 * the audit log and the CSRF checks, so every queue is `readOnlyMode` and any request but a read
 * is refused before bull-board sees it. Behind the admin's auth like every other page.
 */
export async function queuesBoard(app: FastifyInstance, options: { queues: Queue[] }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: options.queues.map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'logzip queues (read-only)' } },
  });
  // bull-board answers its own errors; in the API's documented shape, without internals.
  serverAdapter.setErrorHandler((error) => {
    const mapped = mapError(error, 'queue-board');
    if (mapped.status >= 500) app.log.error({ err: error }, 'queue board request failed');
    return { status: mapped.status as HTTPStatus, body: errorBody(mapped.code, mapped.message) };
  });
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new AdminError('forbidden', 'the queue board is read-only: re-enqueue through logzip (audited)');
    }
  });
  await app.register(serverAdapter.registerPlugin());
}
