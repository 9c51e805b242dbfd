import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { packageMigrationsFolder } from '../../src/adapters/sqlite-node.js';
import { DOCUMENT_ONLY_HEADERS, securityHeaderValues } from '../../src/http/middleware.js';
import { freePort, killIfRunning, REPO, type Running, start, waitForHealth } from './spawn.js';

// What `npm start` runs: dist/node.js under plain node, started from a folder that is not the
// package's, so nothing may depend on the working directory or on the layout of src/.

let dirs: string[] = [];
let running: Running | undefined;

afterEach(async () => {
  await killIfRunning(running);
  running = undefined;
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `homing-${name}-`));
  dirs.push(dir);
  return dir;
};

const journalEntries = (folder: string) =>
  (JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

const appliedMigrations = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true });
  const { n } = db.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number };
  db.close();
  return n;
};

describe('the built server (node dist/node.js)', () => {
  it('started from an unrelated folder with no tsx, finds the migrations from the package root and applies them all', async () => {
    const dir = tempDir('built-cwd');
    const port = String(await freePort());
    running = start('src/node.ts', { cwd: dir, env: { PORT: port, LOG_LEVEL: 'warn' } });
    expect(running.child.spawnargs).toContain(join(REPO, 'dist/node.js'));
    expect(running.child.spawnargs.join(' ')).not.toContain('tsx');
    await waitForHealth(`http://localhost:${port}`, running);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(appliedMigrations(join(dir, 'data', 'homing.db'))).toBe(journalEntries(join(REPO, 'drizzle')));
  });

  it('takes its migrations from HOMING_MIGRATIONS_DIR when set, and refuses to start on a folder without any', async () => {
    const dir = tempDir('built-migrations');
    const migrations = join(dir, 'migrations');
    cpSync(join(REPO, 'drizzle'), migrations, { recursive: true });
    const port = String(await freePort());
    running = start('src/node.ts', { cwd: dir, env: { PORT: port, LOG_LEVEL: 'warn', HOMING_MIGRATIONS_DIR: migrations } });
    await waitForHealth(`http://localhost:${port}`, running);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(appliedMigrations(join(dir, 'data', 'homing.db'))).toBe(journalEntries(migrations));

    running = start('src/node.ts', { cwd: dir, env: { PORT: port, LOG_LEVEL: 'warn', HOMING_MIGRATIONS_DIR: join(dir, 'empty') } });
    expect(await running.exited).toBe(1);
    expect(running.output()).toContain(`homing: could not start: no drizzle migrations in ${join(dir, 'empty')}`);
  });

  it('outside any homing package, says to set HOMING_MIGRATIONS_DIR rather than guessing a folder', () => {
    expect(packageMigrationsFolder(join(REPO, 'dist'))).toBe(join(REPO, 'drizzle'));
    expect(() => packageMigrationsFolder(tempDir('no-package'))).toThrow(/no package.json named "homing" .*set HOMING_MIGRATIONS_DIR/);
  });

  // On Node the common headers are given to the ServerResponse before the app runs and merged into
  // the answer's own (src/adapters/node-response-defaults.ts); test/http/security-headers.test.ts covers the same headers through app.request().
  it('every response over a real socket carries the security headers and a request id; a route may replace only Cache-Control and the CSP', async () => {
    const dir = tempDir('built-headers');
    const port = String(await freePort());
    // An https public origin (behind a TLS proxy), so HSTS is among them.
    const origin = 'https://homing.example';
    running = start('src/node.ts', { cwd: dir, env: { PORT: port, LOG_LEVEL: 'warn', PUBLIC_URL: origin } });
    const base = `http://localhost:${port}`;
    await waitForHealth(base, running);
    const expected = securityHeaderValues(origin);
    expect(expected['Strict-Transport-Security']).toBeDefined();
    const ids = new Set<string>();
    // The JSON answers go without the headers only a page acts on; the page has them all.
    for (const [path, replaced, page] of [
      ['/healthz', [], false],
      ['/v1/nowhere', [], false],
      ['/openapi.json', [], false],
      ['/', ['Content-Security-Policy', 'Cache-Control'], true],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      for (const [name, value] of Object.entries(expected)) {
        // Replaced, not sent beside the route's own (fetch would join the two with a comma).
        if ((replaced as readonly string[]).includes(name)) expect(res.headers.get(name), `${path} ${name}`).not.toContain(value);
        else if (DOCUMENT_ONLY_HEADERS.has(name) && !page) expect(res.headers.get(name), `${path} ${name}`).toBeNull();
        else expect(res.headers.get(name), `${path} ${name}`).toBe(value);
      }
      const id = res.headers.get('X-Request-Id');
      expect(id, path).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      ids.add(id!);
      if (res.status === 404) expect((await res.json()).error.requestId).toBe(id);
    }
    expect(ids.size).toBe(4);
  });
});
