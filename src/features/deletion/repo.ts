import { and, asc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { guard, type Db } from '../../db/client.js';
import { accountDeletions, accountTombstones } from '../../db/schema.js';

export type AccountDeletionRow = typeof accountDeletions.$inferSelect;

/** Schedules a deletion unless one is already scheduled: the first request's due time stands. */
export const scheduleDeletion = (db: Db, row: Pick<AccountDeletionRow, 'accountId' | 'requestedBy' | 'requestedAt' | 'dueAt'>) =>
  db.insert(accountDeletions).values({ ...row, attempts: 0 }).onConflictDoNothing();

export async function findDeletion(db: Db, accountId: string) {
  const [row] = await db.select().from(accountDeletions).where(eq(accountDeletions.accountId, accountId));
  return row;
}

/** Cancels unless the purge has begun; returns whether a row went. */
export async function cancelDeletion(db: Db, accountId: string) {
  const deleted = await db
    .delete(accountDeletions)
    .where(and(eq(accountDeletions.accountId, accountId), isNull(accountDeletions.purgeStartedAt)))
    .returning({ accountId: accountDeletions.accountId });
  return deleted.length === 1;
}

export const dueDeletions = (db: Db, now: number, limit: number) =>
  db
    .select()
    .from(accountDeletions)
    .where(lte(accountDeletions.dueAt, now))
    .orderBy(asc(accountDeletions.dueAt))
    .limit(limit);

/**
 * Claims the purge: one conditional UPDATE, so a cancel racing it either lands first (the row is
 * gone and nothing is claimed) or finds purge_started_at set and fails.
 */
export const claimPurge = (db: Db, accountId: string, now: number) =>
  db
    .update(accountDeletions)
    .set({ purgeStartedAt: now })
    .where(and(eq(accountDeletions.accountId, accountId), isNull(accountDeletions.purgeStartedAt), lte(accountDeletions.dueAt, now)));

/** Aborts the write unless the account's purge is claimed (a cancel got there first otherwise). */
export const guardClaimed = (accountId: string) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM account_deletions WHERE account_id = ${accountId} AND purge_started_at IS NOT NULL)`);

export const recordAttempt = (db: Db, accountId: string, error: string | null) =>
  db
    .update(accountDeletions)
    .set({ attempts: sql`${accountDeletions.attempts} + 1`, lastError: error })
    .where(eq(accountDeletions.accountId, accountId));

export const insertTombstone = (db: Db, row: typeof accountTombstones.$inferInsert) => db.insert(accountTombstones).values(row);

export async function isTombstoned(db: Db, accountId: string) {
  const [row] = await db.select({ id: accountTombstones.accountId }).from(accountTombstones).where(eq(accountTombstones.accountId, accountId));
  return row !== undefined;
}

/** Tombstones written after `since`: their prefixes are checked again for objects that landed late. */
export const tombstonesSince = (db: Db, since: number, limit: number) =>
  db
    .select({ accountId: accountTombstones.accountId })
    .from(accountTombstones)
    .where(gt(accountTombstones.deletedAt, since))
    .limit(limit);
