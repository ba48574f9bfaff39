import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { createUiKit, type UiOptions } from './kit.js';
import { archiveRoutes } from './routes/archives.js';
import { auditRoutes } from './routes/audit.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { failureRoutes } from './routes/failures.js';
import { groupRoutes } from './routes/groups.js';
import { sessionRoutes } from './routes/session.js';

export type { UiOptions } from './kit.js';

/** The server-rendered UI: every form posts with a CSRF token; pages use the same operations as the API. */
export async function uiRoutes(app: FastifyInstance, options: UiOptions): Promise<void> {
  // Forms are parsed here only: the JSON API (another plugin) never reads a form body.
  await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
  const ui = createUiKit(app, options);
  app.addHook('preHandler', async (request) => ui.loadHealth(request));
  sessionRoutes(app, ui);
  dashboardRoutes(app, ui);
  failureRoutes(app, ui);
  groupRoutes(app, ui);
  archiveRoutes(app, ui);
  auditRoutes(app, ui);
}
