import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    // Generous: a hang still fails, and on 2 cores kept busy by other work a test that takes 10 s
    // alone can take several times that (the suite holds under `stress-ng --cpu 2`).
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
