import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';

// A database brought to the state just before one migration, filled by the test, then taken
// through that migration and the rest: how a server already holding data meets an upgrade.

export const MIGRATIONS = join(import.meta.dirname, '../../drizzle');

export function createMigrationDb() {
  const dir = mkdtempSync(join(tmpdir(), 'homing-migration-'));
  const sqlite = new Database(join(dir, 'homing.db'));
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite);

  /** drizzle/ as it was before `tag`: the journal cut just before it. */
  function migrationsBefore(tag: string) {
    const folder = join(dir, `drizzle-before-${tag}`);
    cpSync(MIGRATIONS, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const at = journal.entries.findIndex((e) => e.tag === tag);
    if (at <= 0) throw new Error(`no migration ${tag} after the first`);
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
    return folder;
  }

  let rows = 0;
  /** Inserts a row giving every NOT NULL column without a default a unique dummy of its type, read from the live table. */
  function insertRow(table: string, values: Record<string, unknown>) {
    const columns = (sqlite.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; dflt_value: unknown }[]).filter(
      (c) => c.name in values || (c.notnull && c.dflt_value === null),
    );
    rows++;
    const row = columns.map((c) => (c.name in values ? values[c.name] : /INT/i.test(c.type) ? 1 : `${c.name}-${rows}`));
    sqlite.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c.name}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...row);
  }

  return {
    sqlite,
    migrateBefore: (tag: string) => migrate(db, { migrationsFolder: migrationsBefore(tag) }),
    migrateAll: () => migrate(db, { migrationsFolder: MIGRATIONS }),
    insertRow,
    close() {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
