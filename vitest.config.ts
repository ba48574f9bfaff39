import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "@logzip/source" export
// condition), so unit tests need no build; tests that spawn processes use the built dist/.
const conditions = ['@logzip/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@logzip/source'] } },
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/tests/unit/**/*.test.ts', 'infra/tests/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/tests/integration/**/*.test.ts'],
          globalSetup: ['packages/test-utils/src/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Tests that span packages (the fault suite, the infra templates, the stack end to end);
          // they need the same moto and Redis, and the built dist/ of every package.
          name: 'system',
          include: ['tests/**/*.test.ts'],
          globalSetup: ['packages/test-utils/src/global-setup.ts'],
        },
      },
    ],
  },
});
