import { eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { throttles } from '../../db/schema.js';

/**
 * Counts one event in a fixed window and returns the count so far. A single upsert, so
 * concurrent requests never lose a count: each one sees its own increment.
 */
export async function countInWindow(db: Db, key: string, now: number, windowMs: number) {
  const windowOpen = sql`${throttles.windowStartedAt} > ${now - windowMs}`;
  const [row] = await db
    .insert(throttles)
    .values({ key, count: 1, windowStartedAt: now, blockedUntil: 0, updatedAt: now })
    .onConflictDoUpdate({
      target: throttles.key,
      set: {
        count: sql`CASE WHEN ${windowOpen} THEN ${throttles.count} + 1 ELSE 1 END`,
        windowStartedAt: sql`CASE WHEN ${windowOpen} THEN ${throttles.windowStartedAt} ELSE ${now} END`,
        updatedAt: now,
      },
    })
    .returning({ count: throttles.count, windowStartedAt: throttles.windowStartedAt, blockedUntil: throttles.blockedUntil });
  return row!;
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
