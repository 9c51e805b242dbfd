import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, uniqueEmail } from '../harness.js';
import { freshAddress } from '../security/helpers.js';
import { startTestServer } from './spawn.js';

// Another process holding SQLite's write lock (a backup, an operator's sqlite3 shell) and a disk
// with no room left: each write is answered at once with a 503 that says when to retry, and the
// server goes on answering everything that does not need to write.

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
let server: TestServer | undefined;
let app: TestApp | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  app?.close();
  app = undefined;
});

/** Asking for a login challenge stores the challenge: a write any client can make. */
const askChallenge = (url: string) =>
  fetch(`${url}/v1/auth/challenge`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: uniqueEmail('lock') }),
  });

async function timed<T>(work: Promise<T>) {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

describe('a database another process has locked', () => {
  it('answers a write 503 database_busy with Retry-After quickly, keeps serving /healthz, and takes the retry once the lock is gone', async () => {
    server = await startTestServer('db-lock');
    const holder = new Database(join(server.dir, 'data', 'homing.db'));
    holder.exec('BEGIN IMMEDIATE');
    const lockedAt = Date.now();
    try {
      // The health check goes out while the write is waiting for the lock, on the same event loop.
      const write = timed(askChallenge(server.url));
      const health = timed(fetch(`${server.url}/healthz`));
      const [busy, healthy] = await Promise.all([write, health]);

      expect(busy.value.status).toBe(503);
      expect(busy.value.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/);
      expect((await busy.value.json()).error.code).toBe('database_busy');
      expect(busy.ms).toBeLessThan(1_000);
      expect(healthy.value.status).toBe(200);
      expect(healthy.ms).toBeLessThan(1_000);

      // Still locked: a second write is refused the same way, not queued behind the first.
      const again = await timed(askChallenge(server.url));
      expect(again.value.status).toBe(503);
      expect(again.ms).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3_000 - (Date.now() - lockedAt))));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect((await askChallenge(server.url)).status).toBe(200);
  });
});

describe('a database with no room left', () => {
  it('answers a write 503 storage_full with Retry-After 60, not a 500', async () => {
    app = createTestApp();
    const sqlite = (app.deps.db as unknown as { $client: Database.Database }).$client;
    // SQLite's own cap on the file's size stands in for a full disk: the write fails with SQLITE_FULL.
    sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true })}`);

    let full: Response | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const res = await app.request('POST', '/v1/auth/challenge', {
        body: { email: uniqueEmail('full') },
        headers: { 'X-Forwarded-For': freshAddress() },
      });
      if (res.status !== 200) full = res;
    }
    expect(full?.status).toBe(503);
    expect(full?.headers.get('Retry-After')).toBe('60');
    expect((await full!.json()).error.code).toBe('storage_full');
  });
});
