import { asc, count, desc, eq, gt, or, sql } from 'drizzle-orm';
import { fixedLimit, type Db } from '../../db/client.js';
import { accounts } from '../../db/schema.js';

export type AccountRow = typeof accounts.$inferSelect;
export type NewAccountRow = typeof accounts.$inferInsert;

/** The insert, for atomic(): it fails with a unique violation when the id, email or phone is taken. */
export const insertAccount = (db: Db, row: NewAccountRow) => db.insert(accounts).values(row);

/** Whether any account has this id, email index or phone index. */
export async function isAnyTaken(db: Db, keys: { id: string; emailIndex: string; phoneIndex: string | null }) {
  const [row] = await db
    .select({ id: accounts.id })
    .from(accounts)
    .where(
      or(
        eq(accounts.id, keys.id),
        eq(accounts.emailIndex, keys.emailIndex),
        keys.phoneIndex === null ? undefined : eq(accounts.phoneIndex, keys.phoneIndex),
      ),
    )
    .limit(fixedLimit(1));
  return row !== undefined;
}

export async function findAccountById(db: Db, id: string) {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(fixedLimit(1));
  return row;
}

export async function findAccountByEmailIndex(db: Db, emailIndex: string) {
  const [row] = await db.select().from(accounts).where(eq(accounts.emailIndex, emailIndex)).limit(fixedLimit(1));
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
 * with the number of accounts. The sample size is one constant, so it is written into the SQL.
 */
export async function kdfParameterCounts(db: Db, sampleSize: number) {
  const recent = db
    .select({ opsLimit: accounts.kdfOpsLimit, memLimit: accounts.kdfMemLimit })
    .from(accounts)
    .orderBy(desc(sql`rowid`))
    .limit(fixedLimit(sampleSize))
    .as('recent');
  return db
    .select({ opsLimit: recent.opsLimit, memLimit: recent.memLimit, accounts: count() })
    .from(recent)
    .groupBy(recent.opsLimit, recent.memLimit);
}

/** Accounts in id order after `afterId`, a page at a time (ids and sealed e-mails only). */
export const accountsAfter = (db: Db, afterId: string, limit: number) =>
  db
    .select({ id: accounts.id, emailCiphertext: accounts.emailCiphertext })
    .from(accounts)
    .where(gt(accounts.id, afterId))
    .orderBy(asc(accounts.id))
    .limit(limit);

// ---- account deletion (src/features/deletion) ----

/** Replaces both login keys (see accounts/service.ts lockOutStatement). */
export const lockOut = (db: Db, id: string, lockedKey: string, now: number) =>
  db.update(accounts).set({ loginPublicKey: lockedKey, recoveryLoginPublicKey: lockedKey, updatedAt: now }).where(eq(accounts.id, id));

/** The account row; most of the account's tables cascade from it. */
export const deleteAccount = (db: Db, id: string) => db.delete(accounts).where(eq(accounts.id, id));

export async function findAccountByPhoneIndex(db: Db, phoneIndex: string) {
  const [row] = await db.select().from(accounts).where(eq(accounts.phoneIndex, phoneIndex)).limit(fixedLimit(1));
  return row;
}

/** The e-mail's sealed value and blind index, in one statement: they never disagree. */
export function updateEmail(db: Db, id: string, email: Pick<AccountRow, 'emailCiphertext' | 'emailIndex'>, now: number) {
  return db
    .update(accounts)
    .set({ ...email, updatedAt: now })
    .where(eq(accounts.id, id));
}

/** The phone number's sealed value and blind index (both null to remove it), in one statement. */
export function updatePhone(db: Db, id: string, phone: Pick<AccountRow, 'phoneCiphertext' | 'phoneIndex'>, now: number) {
  return db
    .update(accounts)
    .set({ ...phone, updatedAt: now })
    .where(eq(accounts.id, id));
}
