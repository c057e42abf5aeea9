import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The load test starts servers and runs for minutes: it has its own config (vitest.load.config.ts, npm run test:load).
    exclude: [...configDefaults.exclude, 'test/load/**'],
    // Each test builds its own database and app; files run in parallel on both cores.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
