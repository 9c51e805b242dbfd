import { and, eq, gt, lte } from 'drizzle-orm';
import { fixedLimit, type Db } from '../../db/client.js';
import { guardianships, pendingSignups } from '../../db/schema.js';

export type PendingSignupRow = typeof pendingSignups.$inferSelect;
export type GuardianshipRow = typeof guardianships.$inferSelect;

/** Inserts unless a pending sign-up holds the e-mail already; returns whether the row went in. */
export async function insertPending(db: Db, row: PendingSignupRow): Promise<boolean> {
  const inserted = await db.insert(pendingSignups).values(row).onConflictDoNothing().returning({ id: pendingSignups.id });
  return inserted.length === 1;
}

/** The pending sign-up, unless it has expired (expired rows wait for the purge, but never count). */
export async function findLivePending(db: Db, id: string, now: number) {
  const [row] = await db
    .select()
    .from(pendingSignups)
    .where(and(eq(pendingSignups.id, id), gt(pendingSignups.expiresAt, now)))
    .limit(fixedLimit(1));
  return row;
}

export async function isEmailPending(db: Db, emailIndex: string, now: number) {
  const [row] = await db
    .select({ id: pendingSignups.id })
    .from(pendingSignups)
    .where(and(eq(pendingSignups.emailIndex, emailIndex), gt(pendingSignups.expiresAt, now)))
    .limit(fixedLimit(1));
  return row !== undefined;
}

/** Frees the e-mail of a pending sign-up that expired but was not purged yet. */
export const deleteExpiredPendingFor = (db: Db, emailIndex: string, now: number) =>
  db.delete(pendingSignups).where(and(eq(pendingSignups.emailIndex, emailIndex), lte(pendingSignups.expiresAt, now)));

export const deletePending = (db: Db, id: string) => db.delete(pendingSignups).where(eq(pendingSignups.id, id));

/** Removes every pending sign-up past its expiry; returns their ids (their codes go with them). */
export async function deleteExpiredPending(db: Db, now: number) {
  const rows = await db.delete(pendingSignups).where(lte(pendingSignups.expiresAt, now)).returning({ id: pendingSignups.id });
  return rows.map((row) => row.id);
}

export const insertGuardianship = (db: Db, row: GuardianshipRow) => db.insert(guardianships).values(row);

export async function findGuardianship(db: Db, accountId: string) {
  const [row] = await db.select().from(guardianships).where(eq(guardianships.accountId, accountId)).limit(fixedLimit(1));
  return row;
}
