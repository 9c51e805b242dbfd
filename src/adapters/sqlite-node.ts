import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { Db } from '../db/client.js';
import * as schema from '../db/schema.js';
import { createGroupCommit, type WriteDurability } from './sqlite-group-commit.js';

/**
 * The package's drizzle/ folder: in the nearest folder at or above `from` (by default the running
 * module's: src/adapters/ under tsx, dist/ once built) whose package.json is homing's. So the
 * built server finds it from whatever folder it is started in.
 */
export function packageMigrationsFolder(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'homing') {
      return join(dir, 'drizzle');
    }
    if (dirname(dir) === dir) {
      throw new Error(`no package.json named "homing" at or above ${from}: set HOMING_MIGRATIONS_DIR to the drizzle/ folder`);
    }
  }
}

const STARTUP_BUSY_TIMEOUT_MS = 5_000;
/** The longest one write may hold up the event loop waiting for another process's lock. */
const SERVING_BUSY_TIMEOUT_MS = 100;

/**
 * Opens (creating if needed) the SQLite file and brings it to the latest migration in
 * `migrationsFolder` (HOMING_MIGRATIONS_DIR; by default the package's drizzle/ folder).
 */
export function openSqlite(path: string, migrationsFolder = packageMigrationsFolder()): { db: Db; durability: WriteDurability; close(): void } {
  const journal = join(migrationsFolder, 'meta', '_journal.json');
  if (!existsSync(journal)) throw new Error(`no drizzle migrations in ${resolve(migrationsFolder)} (${journal} is missing)`);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  // WAL with synchronous=FULL: a write is on disk before we acknowledge it.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // A request's writes run in a savepoint inside the open group commit, and SQLite keeps what a
  // savepoint may have to undo in a statement journal that spills to a temporary file past 64 KiB:
  // a push of 100 items wrote and truncated one every time, doubling the cost of each row. In
  // memory, the journal costs RAM for as long as one write runs (about the pages it changes: a
  // few hundred KiB for a push, tens of MiB for purging a collection of 100,000 items).
  sqlite.pragma('temp_store = MEMORY');
  // better-sqlite3 waits for a lock synchronously, stalling every request meanwhile. Start-up
  // serves nothing yet, so migrations may wait out a backup's lock; once serving, a write gives up
  // quickly and is answered 503 database_busy with Retry-After (src/http/errors.ts).
  sqlite.pragma(`busy_timeout = ${STARTUP_BUSY_TIMEOUT_MS}`);
  migrate(drizzle(sqlite, { schema }), { migrationsFolder });
  sqlite.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
  // Serving writes commit in groups, one fsync per event-loop turn (sqlite-group-commit.ts).
  const group = createGroupCommit(sqlite);
  return {
    db: drizzle(group.client, { schema }) as unknown as Db,
    durability: group,
    close: () => {
      group.flush();
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      sqlite.close();
    },
  };
}
