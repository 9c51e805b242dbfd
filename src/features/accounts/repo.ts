import { count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { accounts } from '../../db/schema.js';

export type AccountRow = typeof accounts.$inferSelect;
export type NewAccountRow = typeof accounts.$inferInsert;

/** Inserts unless the id, email or phone is taken; returns whether the row went in. */
export async function insertAccount(db: Db, row: NewAccountRow): Promise<boolean> {
  const inserted = await db.insert(accounts).values(row).onConflictDoNothing().returning({ id: accounts.id });
  return inserted.length === 1;
}

export async function findAccountById(db: Db, id: string) {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return row;
}

export async function findAccountByEmailIndex(db: Db, emailIndex: string) {
  const [row] = await db.select().from(accounts).where(eq(accounts.emailIndex, emailIndex)).limit(1);
  return row;
}

export function updatePasswordKeys(
  db: Db,
  id: string,
  keys: Pick<AccountRow, 'kdfSalt' | 'kdfOpsLimit' | 'kdfMemLimit' | 'loginPublicKey' | 'wrappedMasterKey'>,
  now: number,
) {
  return db
    .update(accounts)
    .set({ ...keys, updatedAt: now })
    .where(eq(accounts.id, id));
}

/**
 * How many of the most recently created accounts use each set of Argon2id parameters: a bounded
 * sample (newest rowids first, read straight off the table's b-tree), so its cost does not grow
 * with the number of accounts.
 */
export async function kdfParameterCounts(db: Db, sampleSize: number) {
  const recent = db
    .select({ opsLimit: accounts.kdfOpsLimit, memLimit: accounts.kdfMemLimit })
    .from(accounts)
    .orderBy(desc(sql`rowid`))
    .limit(sampleSize)
    .as('recent');
  return db
    .select({ opsLimit: recent.opsLimit, memLimit: recent.memLimit, accounts: count() })
    .from(recent)
    .groupBy(recent.opsLimit, recent.memLimit);
}
