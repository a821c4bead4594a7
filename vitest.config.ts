import { configDefaults, defineConfig } from 'vitest/config';

// Two projects, one run. `unit` (*.unit.spec.ts) needs nothing: `npm run test:unit` runs it
// alone and starts no server. `int` (every other spec) uses the PostgreSQL server that
// test/setup/global-setup.ts provides (DATABASE_URL, or an embedded one it starts) and,
// for Kafka, the broker it starts; the setup runs only when an int file is queued.
// `npm test` (vitest run) runs both. Each test file makes its own database.
const unitSpecs = 'test/**/*.unit.spec.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: [unitSpecs] } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['test/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, unitSpecs],
          globalSetup: ['test/setup/global-setup.ts'],
        },
      },
    ],
  },
});
