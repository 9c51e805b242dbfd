import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/**
 * The database every repo writes to: drizzle over better-sqlite3 on Node, over D1 on Workers.
 * Repos always `await` their queries, which works on both.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

export type Statement = BatchItem<'sqlite'>;

interface BatchCapable {
  batch(statements: readonly [Statement, ...Statement[]]): Promise<unknown[]>;
}
interface RawTransactionCapable {
  $client: { transaction(fn: () => void): () => void };
}

/**
 * Runs statements all-or-nothing. D1 has no interactive transactions, so a multi-statement write
 * is a batch there; on better-sqlite3 the same statements run inside one synchronous transaction.
 * Callers build every statement up front: nothing may depend on reading between them.
 */
export async function atomic(db: Db, statements: Statement[]): Promise<void> {
  const [first, ...rest] = statements;
  if (!first) return;
  if (typeof (db as unknown as Partial<BatchCapable>).batch === 'function') {
    await (db as unknown as BatchCapable).batch([first, ...rest]);
    return;
  }
  const client = (db as unknown as RawTransactionCapable).$client;
  client.transaction(() => {
    for (const statement of statements) (statement as unknown as { run(): void }).run();
  })();
}
