import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test builds its own database and app; files run in parallel on both cores.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
