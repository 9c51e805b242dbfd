import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type Running, start, waitForHealth } from './spawn.js';

let dir: string;
let running: Running | undefined;

afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.signal('SIGKILL');
    await running.exited;
  }
  running = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('src/node.ts as a real process', () => {
  it('starts on the embedded defaults with no configuration at all, and stops cleanly on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'homing-start-'));
    running = start('src/node.ts', { cwd: dir });
    await waitForHealth('http://localhost:8787', running);

    const challenge = await fetch('http://localhost:8787/v1/auth/challenge', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.org' }),
    });
    expect(challenge.status).toBe(200);
    expect((await challenge.json()).origin).toBe('http://localhost:8787');

    // The drizzle/ migrations were applied to ./data/homing.db, and the server key is owner-only.
    expect(statSync(join(dir, 'data', 'server.key')).mode & 0o777).toBe(0o600);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.output()).toContain('"message":"stopped"');

    const db = new Database(join(dir, 'data', 'homing.db'), { readonly: true });
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
    db.close();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['accounts', 'sessions', 'devices', 'login_challenges', 'throttles', '__drizzle_migrations']),
    );
  });

  it('names each bad setting in one line and exits non-zero without a stack trace', async () => {
    dir = mkdtempSync(join(tmpdir(), 'homing-badcfg-'));
    running = start('src/node.ts', {
      cwd: dir,
      env: { PORT: 'eighty', LOG_LEVEL: 'loud', HOMING_SERVER_KEY: 'short', REQUEST_TIMEOUT_SECONDS: '0', SHUTDOWN_GRACE_SECONDS: 'soon' },
    });
    expect(await running.exited).toBe(2);
    const lines = running.output().trim().split('\n');
    expect(lines.find((l) => l.includes('PORT="eighty"'))).toBeDefined();
    expect(lines.find((l) => l.includes('LOG_LEVEL="loud"'))).toBeDefined();
    expect(lines.find((l) => l.includes('HOMING_SERVER_KEY="short"'))).toContain('32 bytes');
    expect(lines.find((l) => l.includes('REQUEST_TIMEOUT_SECONDS="0"'))).toBeDefined();
    expect(lines.find((l) => l.includes('SHUTDOWN_GRACE_SECONDS="soon"'))).toBeDefined();
    expect(running.output()).not.toMatch(/\n\s+at /);
  });

  it('keeps using the server key it created, so sealed emails stay readable after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'homing-restart-'));
    const port = String(await freePort());
    const env = { PORT: port, LOG_LEVEL: 'warn' };
    const signup = { method: 'POST', headers: { 'Content-Type': 'application/json' } };
    running = start('src/node.ts', { cwd: dir, env });
    await waitForHealth(`http://localhost:${port}`, running);
    const first = await (await fetch(`http://localhost:${port}/v1/auth/challenge`, { ...signup, body: JSON.stringify({ email: 'a@example.org' }) })).json();
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);

    running = start('src/node.ts', { cwd: dir, env });
    await waitForHealth(`http://localhost:${port}`, running);
    const second = await (await fetch(`http://localhost:${port}/v1/auth/challenge`, { ...signup, body: JSON.stringify({ email: 'a@example.org' }) })).json();
    // The decoy salt derives from the server key: equal only if the same key was loaded.
    expect(second.kdf.salt).toBe(first.kdf.salt);
  });
});
