// The part of @cloudflare/vitest-pool-workers' `cloudflare:test` module these tests use, typed
// against the module form of @cloudflare/workers-types. The pool's own declarations need the
// Workers globals, which clash with the DOM and Node types the rest of the repo checks against.
declare module 'cloudflare:test' {
  import type { D1Database, ExecutionContext, R2Bucket, ScheduledController } from '@cloudflare/workers-types/index.js';

  export interface D1Migration {
    name: string;
    queries: string[];
  }
  /** ASSETS: wrangler.toml's [assets] binding, dist/public/ as the build wrote it. */
  export const env: { DB: D1Database; BLOBS: R2Bucket; ASSETS: { fetch(request: Request): Promise<Response> }; TEST_MIGRATIONS: D1Migration[] } & Record<string, unknown>;
  export const SELF: { fetch(input: string, init?: RequestInit): Promise<Response> };
  export function applyD1Migrations(db: D1Database, migrations: D1Migration[], migrationsTableName?: string): Promise<void>;
  export function createExecutionContext(): ExecutionContext;
  export function waitOnExecutionContext(ctx: ExecutionContext): Promise<void>;
  export function createScheduledController(options?: { scheduledTime?: Date | number; cron?: string }): ScheduledController;
}
