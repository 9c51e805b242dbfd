import { eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { throttles } from '../../db/schema.js';

/**
 * Counts one event (or `cost` of them) in a fixed window and returns the count so far. A single
 * upsert, so concurrent requests never lose a count: each one sees its own increment.
 */
export async function countInWindow(db: Db, key: string, now: number, windowMs: number, cost = 1) {
  return (await upsertCount(db, key, now, windowMs, cost))!;
}

/**
 * Like countInWindow, but an increment that would pass `cap` is not made (undefined is returned):
 * a refused request uses up nothing, and of two racing requests that each fit only alone, one is
 * counted and the other refused.
 */
export const countIfFits = (db: Db, key: string, now: number, windowMs: number, cost: number, cap: number) =>
  upsertCount(db, key, now, windowMs, cost, cap);

async function upsertCount(db: Db, key: string, now: number, windowMs: number, cost: number, cap?: number) {
  const windowOpen = sql`${throttles.windowStartedAt} > ${now - windowMs}`;
  const [row] = await db
    .insert(throttles)
    .values({ key, count: cost, windowStartedAt: now, blockedUntil: 0, updatedAt: now })
    .onConflictDoUpdate({
      target: throttles.key,
      set: {
        count: sql`CASE WHEN ${windowOpen} THEN ${throttles.count} + ${cost} ELSE ${cost} END`,
        windowStartedAt: sql`CASE WHEN ${windowOpen} THEN ${throttles.windowStartedAt} ELSE ${now} END`,
        updatedAt: now,
      },
      ...(cap === undefined ? {} : { setWhere: sql`NOT (${windowOpen}) OR ${throttles.count} + ${cost} <= ${cap}` }),
    })
    .returning({ count: throttles.count, windowStartedAt: throttles.windowStartedAt, blockedUntil: throttles.blockedUntil });
  return row;
}

/** The window a key counts in now, without counting. */
export async function findWindow(db: Db, key: string) {
  const [row] = await db.select({ count: throttles.count, windowStartedAt: throttles.windowStartedAt }).from(throttles).where(eq(throttles.key, key));
  return row;
}

export async function blockUntil(db: Db, key: string, until: number) {
  await db
    .update(throttles)
    .set({ blockedUntil: sql`max(${throttles.blockedUntil}, ${until})` })
    .where(eq(throttles.key, key));
}

export async function findBlockedUntil(db: Db, keys: string[]) {
  if (keys.length === 0) return 0;
  const rows = await db
    .select({ blockedUntil: throttles.blockedUntil })
    .from(throttles)
    .where(sql`${throttles.key} IN (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`);
  return Math.max(0, ...rows.map((r) => r.blockedUntil));
}

export async function clear(db: Db, key: string) {
  await db.delete(throttles).where(eq(throttles.key, key));
}

export const deleteStale = (db: Db, before: number) => db.delete(throttles).where(lt(throttles.updatedAt, before));

/** Account deletion: counters keyed by the account, its e-mail or its devices. */
export const deleteKeys = (db: Db, keys: string[]) =>
  db.delete(throttles).where(sql`${throttles.key} IN (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`);
