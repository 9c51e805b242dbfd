import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { loginChallenges } from '../../db/schema.js';

export async function insertChallenge(db: Db, row: typeof loginChallenges.$inferInsert) {
  await db.insert(loginChallenges).values(row);
}

/**
 * Takes a challenge for use: deleting the row is what makes it single-use, since of two
 * concurrent logins only one can delete it. Expired rows are not returned.
 */
export async function consumeChallenge(db: Db, id: string, now: number) {
  const [row] = await db
    .delete(loginChallenges)
    .where(and(eq(loginChallenges.id, id), gt(loginChallenges.expiresAt, now)))
    .returning();
  return row;
}

export const deleteExpiredChallenges = (db: Db, now: number) => db.delete(loginChallenges).where(lt(loginChallenges.expiresAt, now));

/** Account deletion: login_challenges name the account without a foreign key. */
export const deleteChallengesOf = (db: Db, accountId: string) => db.delete(loginChallenges).where(eq(loginChallenges.accountId, accountId));
