import { defineConfig } from 'vitest/config';

// Three tiers by file suffix: unit (no I/O), int (real PostgreSQL, PGlite, Kafka), e2e (the platform as a process).
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['{src,test}/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: { name: 'int', include: ['{src,test}/**/*.int.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['{src,test}/**/*.e2e.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
