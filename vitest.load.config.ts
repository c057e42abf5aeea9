import { defineConfig } from 'vitest/config';

/** `npm run test:load`: only the load test, one file at a time, with room for store generation and a child server. */
export default defineConfig({
  test: {
    include: ['test/load/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
