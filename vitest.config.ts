import { defineConfig } from 'vitest/config';

// One run, every tier. *.unit.spec.ts need nothing; *.int.spec.ts use the PostgreSQL
// server that test/setup/global-setup.ts provides (DATABASE_URL, or an embedded one it
// starts) and, for Kafka, the broker it starts. Each test file makes its own database.
export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
