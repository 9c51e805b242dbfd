import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestApp } from '../harness.js';

// What a rejected request must leave as it was: the number of rows in every table, every row of
// the account it was made for, and the files of the harness's blob folder. Only counters of
// refused attempts may move on a refusal, since counting them is what they are for: the abuse
// limits, and the wrong guesses at a SIM code.

const COUNTS_REFUSALS = new Set(['throttles']);
const REFUSAL_COUNTER_COLUMNS: Record<string, string[]> = { sim_verifications: ['attempts'] };

const withoutRefusalCounters = (table: string, row: Record<string, unknown>) => {
  const kept = { ...row };
  for (const column of REFUSAL_COUNTER_COLUMNS[table] ?? []) delete kept[column];
  return kept;
};

interface Sqlite {
  prepare(source: string): { all(...params: unknown[]): Record<string, unknown>[]; pluck(): { all(): unknown[] } };
}

const sqliteOf = (t: TestApp) => (t.deps.db as unknown as { $client: Sqlite }).$client;

export interface StorageSnapshot {
  rowCounts: Record<string, number>;
  accountRowsHash: string;
  blobFiles: string[];
}

const filesUnder = (dir: string) =>
  (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }) : [])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();

/** Per table: the statement counting its rows and, when it has an owner column, the one selecting the account's rows. */
type Statements = { table: string; count: ReturnType<Sqlite['prepare']>; rows?: ReturnType<Sqlite['prepare']> }[];
const statementsByApp = new WeakMap<TestApp, Statements>();

function statementsFor(t: TestApp): Statements {
  const cached = statementsByApp.get(t);
  if (cached) return cached;
  const sqlite = sqliteOf(t);
  const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const statements = tables
    .filter((table) => !COUNTS_REFUSALS.has(table))
    .map((table) => {
      const columns = sqlite.prepare(`PRAGMA table_info("${table}")`).all().map((column) => column.name);
      const owner = table === 'accounts' ? 'id' : columns.includes('account_id') ? 'account_id' : undefined;
      return {
        table,
        count: sqlite.prepare(`SELECT count(*) AS n FROM "${table}"`),
        rows: owner ? sqlite.prepare(`SELECT * FROM "${table}" WHERE "${owner}" = ?`) : undefined,
      };
    });
  statementsByApp.set(t, statements);
  return statements;
}

export function snapshotStorage(t: TestApp, accountId: string): StorageSnapshot {
  const rowCounts: Record<string, number> = {};
  const hash = createHash('sha256');
  for (const { table, count, rows } of statementsFor(t)) {
    rowCounts[table] = Number(count.all()[0]!.n);
    if (rows) hash.update(`${table}\n${rows.all(accountId).map((row) => JSON.stringify(withoutRefusalCounters(table, row))).sort().join('\n')}\n`);
  }
  return { rowCounts, accountRowsHash: hash.digest('hex'), blobFiles: filesUnder(join(t.dir, 'blobs')) };
}
