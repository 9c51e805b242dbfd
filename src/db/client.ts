import type { BatchItem } from 'drizzle-orm/batch';
import { SQL, sql } from 'drizzle-orm';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/**
 * The database every repo writes to: drizzle over better-sqlite3 on Node, over D1 on Workers.
 * Repos always `await` their queries, which works on both.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/** A statement for atomic(): a drizzle query builder, or raw SQL. */
export type Statement = BatchItem<'sqlite'> | SQL;

interface BatchCapable {
  batch(statements: readonly [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]): Promise<unknown[]>;
}
interface RawTransactionCapable {
  $client: { transaction(fn: () => void): () => void };
}

/**
 * Runs statements all-or-nothing. D1 has no interactive transactions, so a multi-statement write
 * is a batch there; on better-sqlite3 the same statements run inside one synchronous transaction.
 * Callers build every statement up front: nothing may depend on reading between them. A guard()
 * among them aborts the whole write when its condition holds.
 */
export async function atomic(db: Db, statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  if (typeof (db as unknown as Partial<BatchCapable>).batch === 'function') {
    // On an async driver db.run() only builds the query; the batch executes it.
    const items = statements.map((s) => (s instanceof SQL ? (db.run(s) as unknown as BatchItem<'sqlite'>) : s));
    await (db as unknown as BatchCapable).batch(items as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
    return;
  }
  const client = (db as unknown as RawTransactionCapable).$client;
  client.transaction(() => {
    for (const statement of statements) {
      if (statement instanceof SQL) db.run(statement);
      else (statement as unknown as { run(): void }).run();
    }
  })();
}

/** A statement that aborts its atomic() write when `failWhen` is true. See schema.writeGuards. */
export const guard = (failWhen: SQL) => sql`INSERT INTO write_guards (ok) SELECT NULL WHERE ${failWhen}`;

function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 5; e = (e as { cause?: unknown }).cause) {
    parts.push(String((e as { message?: unknown }).message ?? e));
  }
  return parts.join(' | ');
}

export const isGuardFailure = (err: unknown) => /write_guards\.ok/.test(messages(err));
export const isUniqueViolation = (err: unknown) => /UNIQUE constraint failed|PRIMARY KEY/i.test(messages(err));

/**
 * D1 binds at most 100 parameters per query, so `IN (…)` lookups over many ids run in chunks.
 * (SQLite allows far more; chunking there costs a few extra index lookups.)
 */
export async function inChunks<T>(ids: string[], lookup: (chunk: string[]) => Promise<T[]>, size = 90): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < ids.length; start += size) results.push(...(await lookup(ids.slice(start, start + size))));
  return results;
}
