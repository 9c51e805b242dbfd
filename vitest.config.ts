import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Argon2 and real servers make some tests slow on a shared 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A folder for the server logs and test secrets that scripts/scan-test-logs.mjs checks after the run.
    globalSetup: ['test/log-scan/global-setup.ts'],
  },
});
