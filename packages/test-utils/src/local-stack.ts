import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

// Helpers of the tests that run the whole local stack (`pnpm start`) as a new user would.

const CLAIM_KEY = 'logzip:e2e:claim';

/**
 * A database nobody uses (empty) on the run's Redis, claimed with a key that expires should the
 * test die: the route flag `logzip:route` and the queue keys are global within a database.
 */
export async function claimEmptyDatabase(base: string): Promise<{ url: string; release(): Promise<void> }> {
  const token = randomUUID();
  const candidates = Array.from({ length: 15 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  for (const db of candidates) {
    const client = new Redis(base, { db, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      if ((await client.dbsize()) !== 0) continue;
      if ((await client.set(CLAIM_KEY, token, 'EX', 600, 'NX')) !== 'OK') continue;
      const url = new URL(base);
      url.pathname = `/${db}`;
      return {
        url: url.toString(),
        release: async () => {
          const again = new Redis(base, { db, maxRetriesPerRequest: 1 });
          try {
            if ((await again.get(CLAIM_KEY)) === token) await again.flushdb();
          } finally {
            again.disconnect();
          }
        },
      };
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`no empty Redis database (1-15) at ${base} for the end-to-end test`);
}

/** The environment of a new shell: nothing of logzip's, AWS's or the test run's. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(LOGZIP_|AWS_|REDIS_URL$|VITEST|NODE_OPTIONS$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}
