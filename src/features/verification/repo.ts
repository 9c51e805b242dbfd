import { and, eq, gt, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { verificationCodes } from '../../db/schema.js';

export type CodeRow = typeof verificationCodes.$inferSelect;
export type CodePurpose = CodeRow['purpose'];

/** A new code replaces every open one for the same subject and purpose: only the latest works. */
export async function replaceCode(db: Db, row: typeof verificationCodes.$inferInsert) {
  await db
    .delete(verificationCodes)
    .where(and(eq(verificationCodes.subjectId, row.subjectId), eq(verificationCodes.purpose, row.purpose)));
  await db.insert(verificationCodes).values(row);
}

/** Counts one check before the comparison; undefined when the code is used, expired or spent. */
export async function takeAttempt(db: Db, id: string, purpose: CodePurpose, now: number, maxAttempts: number) {
  const [row] = await db
    .update(verificationCodes)
    .set({ attempts: sql`${verificationCodes.attempts} + 1` })
    .where(
      and(
        eq(verificationCodes.id, id),
        eq(verificationCodes.purpose, purpose),
        isNull(verificationCodes.consumedAt),
        gt(verificationCodes.expiresAt, now),
        lt(verificationCodes.attempts, maxAttempts),
      ),
    )
    .returning();
  return row;
}

/** Marks the code used; false when another request used it first. */
export async function consume(db: Db, id: string, now: number) {
  const rows = await db
    .update(verificationCodes)
    .set({ consumedAt: now })
    .where(and(eq(verificationCodes.id, id), isNull(verificationCodes.consumedAt)))
    .returning({ id: verificationCodes.id });
  return rows.length === 1;
}

export async function deleteExpired(db: Db, now: number) {
  const rows = await db.delete(verificationCodes).where(lte(verificationCodes.expiresAt, now)).returning({ id: verificationCodes.id });
  return rows.length;
}

export const deleteForSubject = (db: Db, subjectId: string) =>
  db.delete(verificationCodes).where(eq(verificationCodes.subjectId, subjectId));
