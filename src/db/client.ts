import type { BatchItem } from 'drizzle-orm/batch';
import { fillPlaceholders, SQL, sql } from 'drizzle-orm';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/**
 * The database every repo writes to: drizzle over better-sqlite3 on Node, over D1 on Workers.
 * Repos always `await` their queries, which works on both.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/**
 * A statement for atomic(): a drizzle query builder, raw SQL, a write rendered once
 * (reusableWrite), or one single-row write for many rows (EachRow).
 */
export type Statement = BatchItem<'sqlite'> | SQL | RenderedWrite | EachRow;

interface Query {
  sql: string;
  params: unknown[];
}
/** The parts of a D1Database binding atomic() uses (better-sqlite3 has prepare but no batch). */
interface D1Like {
  prepare(sql: string): { bind(...values: unknown[]): unknown };
  batch(statements: unknown[]): Promise<unknown>;
}
interface RawTransactionCapable {
  $client: { transaction(fn: () => void): () => void; prepare(sql: string): { run(...params: unknown[]): unknown } };
}

/**
 * Runs statements all-or-nothing. D1 has no interactive transactions, so a multi-statement write
 * is one D1 batch there (which D1 runs as a transaction); on better-sqlite3 the same statements run
 * inside one synchronous transaction. Callers build every statement up front: nothing may depend
 * on reading between them. A guard() among them aborts the whole write when its condition holds.
 */
export async function atomic(db: Db, statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  const client = (db as unknown as { $client: Partial<D1Like> }).$client;
  if (typeof client.batch === 'function' && typeof client.prepare === 'function') {
    // Straight to the binding: drizzle 0.45's own D1 batch fails on raw SQL with parameters
    // (every guard), so each statement is rendered by drizzle's dialect and prepared here.
    const d1 = client as D1Like;
    const flat = statements.flatMap((statement) => (statement instanceof EachRow ? statement.batched() : [statement]));
    await d1.batch(
      flat.map((statement) => {
        const query = statement instanceof RenderedWrite ? statement : toQuery(db, statement as SQL | Buildable);
        return d1.prepare(query.sql).bind(...query.params);
      }),
    );
    return;
  }
  const connection = (db as unknown as RawTransactionCapable).$client;
  connection.transaction(() => {
    for (const statement of statements) {
      // Prepared through the connection, which on Node is the group commit's: cached by SQL text.
      if (statement instanceof RenderedWrite) connection.prepare(statement.sql).run(...statement.params);
      else if (statement instanceof EachRow) {
        const prepared = connection.prepare(statement.sql);
        for (const row of statement.rows) prepared.run(...row);
      } else if (statement instanceof SQL) db.run(statement);
      else (statement as unknown as { run(): void }).run();
    }
  })();
}

/** One call's write for atomic(): SQL rendered once for its database, and this call's parameters. */
export class RenderedWrite implements Query {
  constructor(
    readonly sql: string,
    readonly params: unknown[],
  ) {}
}

/**
 * The same single-row write for each of many rows (a batch's new items), for atomic(). On Node
 * each row runs the one prepared statement: SQLite writes a row that way in about half the time a
 * row of a multi-row INSERT … VALUES takes (6 against 11 µs, measured side by side). On D1 every
 * statement of a batch is a query of its own, so there the rows go as the few multi-row
 * statements `batched` builds (each within D1's 100 parameters). Both must write the same rows.
 */
export class EachRow {
  constructor(
    readonly sql: string,
    readonly rows: unknown[][],
    readonly batched: () => SQL[],
  ) {}
}

type Buildable = { toSQL(): Query };

/** A query builder's or raw SQL's text and parameters, as drizzle's dialect renders them. */
function toQuery(db: Db, statement: SQL | Buildable): Query {
  if (!(statement instanceof SQL)) return statement.toSQL();
  return (db as unknown as { dialect: { sqlToQuery(sql: SQL): Query } }).dialect.sqlToQuery(statement);
}

/**
 * A write built once per database with sql.placeholder() for its inputs (like reusableRead), for
 * the writes of the busiest paths (a location report is three). Each call gives a statement for
 * atomic(), which runs it in that write's transaction: on Node inside the open group commit, on
 * D1 in the batch. A builder or raw SQL (a guard) alike.
 */
export function reusableWrite<V extends Record<string, unknown>>(build: (db: Db) => Buildable | SQL): (db: Db, values: V) => RenderedWrite {
  const rendered = new WeakMap<Db, Query>();
  return (db, values) => {
    let query = rendered.get(db);
    if (!query) {
      query = toQuery(db, build(db));
      rendered.set(db, query);
    }
    // Each placeholder filled through its column's encoder, as drizzle's own prepared queries do.
    return new RenderedWrite(query.sql, fillPlaceholders(query.params, values));
  };
}

/**
 * A read built once per database, with sql.placeholder() for its inputs, and run again and again.
 * drizzle renders a query's SQL afresh on every call, and on the hot paths (a device's token, its
 * consent, the policy floor) that rendering was the largest part of a request's CPU. Only reads:
 * a write must be built per call, so that it joins the group commit it belongs to (Node) or its
 * atomic() batch (D1).
 */
export function reusableRead<P>(build: (db: Db) => { prepare(): P }): (db: Db) => P {
  const prepared = new WeakMap<Db, P>();
  return (db) => {
    let query = prepared.get(db);
    if (!query) {
      query = build(db).prepare();
      prepared.set(db, query);
    }
    return query;
  };
}

/**
 * A LIMIT written into the SQL text, for drizzle's .limit(), which otherwise binds it as a
 * parameter. SQLite reads a bound LIMIT's value when it plans, so every run of such a statement
 * prepared it again: one point read took 36 µs against 7 µs with the number in the text (measured
 * on a read that is costly to prepare; 10.6 against 3.8 µs for the session read). For fixed limits
 * only: a page size the client picks stays bound, rather than one statement text per size.
 */
export function fixedLimit(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`a fixed LIMIT must be a whole number, not ${rows}`);
  // drizzle renders an SQL chunk in place of the parameter; its type only admits a number.
  return sql.raw(String(rows)) as unknown as number;
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

/** better-sqlite3's error code (e.g. SQLITE_BUSY_SNAPSHOT), on the error or one it wraps (drizzle's). */
function sqliteCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return '';
}

/** Another connection held the lock this write needed for longer than busy_timeout. */
export const isDatabaseBusy = (err: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(err));
/** The disk, or the database's max_page_count, has no room for this write. */
export const isDatabaseFull = (err: unknown) => sqliteCode(err) === 'SQLITE_FULL';

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

/**
 * How many rows a write changed: better-sqlite3 answers `{ changes }`, D1 `{ meta: { changes } }`.
 * Housekeeping jobs report these counts (src/features/maintenance).
 */
export function changedRows(result: unknown): number {
  const r = result as { changes?: unknown; meta?: { changes?: unknown } } | undefined;
  const n = r?.changes ?? r?.meta?.changes;
  return typeof n === 'number' ? n : Number(n ?? 0) || 0;
}
