import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Tests that run inside workerd, on the D1 and R2 bindings of wrangler.toml (all local, offline).
// Files are *.spec.ts so that the Node suite (test/**/*.test.ts) never picks them up.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('drizzle');
  return {
    plugins: [
      cloudflareTest({
        main: './src/worker.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            PUBLIC_URL: 'http://homing.test',
            HOMING_SERVER_KEY: 'qeD0Mk5Jo07Ok4n7YLct8XHTSY26d1X0zvKaJvnOFRQ',
            KDF_MIN_OPS_LIMIT: '1',
            KDF_MIN_MEM_LIMIT: '8192',
            LOG_LEVEL: 'silent',
            // The loopback push service (test/workers/push-service-setup.ts) is an http://127.0.0.1 endpoint.
            PUSH_ALLOW_INSECURE_ENDPOINTS: 'true',
            VAPID_SUBJECT: 'mailto:operator@homing.test',
          },
          // Miniflare's local send_email bindings (test/workers/email.spec.ts): one open, one that
          // lets mail go to a single address only, as an operator may restrict it.
          email: {
            send_email: [{ name: 'EMAIL' }, { name: 'EMAIL_ONLY_ADA', allowed_destination_addresses: ['ada.lovelace@example.org'] }],
          },
        },
      }),
    ],
    test: {
      include: ['test/workers/**/*.spec.ts'],
      setupFiles: ['test/workers/apply-migrations.ts'],
      globalSetup: ['test/workers/push-service-setup.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  };
});
