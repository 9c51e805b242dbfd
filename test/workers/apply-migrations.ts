import { applyD1Migrations, env } from 'cloudflare:test';

// The same drizzle/ migrations the Node server and `wrangler d1 migrations apply` use.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
