import { and, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import { guard, type Db } from '../../db/client.js';
import { messageBlocks, messagingIdentities } from '../../db/schema.js';

export type IdentityRow = typeof messagingIdentities.$inferSelect;
export type BlockRow = typeof messageBlocks.$inferSelect;

// ---- identities (the directory) ----

export async function identityOfDevice(db: Db, deviceId: string) {
  const [row] = await db.select().from(messagingIdentities).where(eq(messagingIdentities.deviceId, deviceId));
  return row;
}

export function identitiesOfDevices(db: Db, deviceIds: string[]) {
  if (deviceIds.length === 0) return Promise.resolve([] as IdentityRow[]);
  return db.select().from(messagingIdentities).where(inArray(messagingIdentities.deviceId, deviceIds));
}

/** Every identity holding one of these numbers: the directory lookup, one query whatever the hits. */
export function identitiesByNumbers(db: Db, numberIndexes: string[]) {
  return db
    .select()
    .from(messagingIdentities)
    .where(inArray(messagingIdentities.numberIndex, numberIndexes))
    .orderBy(messagingIdentities.createdAt, messagingIdentities.deviceId);
}

export function identitiesOfAccount(db: Db, accountId: string) {
  return db.select().from(messagingIdentities).where(eq(messagingIdentities.accountId, accountId)).orderBy(messagingIdentities.createdAt);
}

/** Turning on (again): a new install replaces the device's keys and number in place. */
export const upsertIdentity = (db: Db, row: typeof messagingIdentities.$inferInsert) =>
  db
    .insert(messagingIdentities)
    .values(row)
    .onConflictDoUpdate({
      target: messagingIdentities.deviceId,
      set: {
        numberIndex: row.numberIndex,
        numberSealed: row.numberSealed,
        x25519PublicKey: row.x25519PublicKey,
        ed25519PublicKey: row.ed25519PublicKey,
        createdAt: row.createdAt,
      },
      // A device id belongs to one account; never let a write reach another's row.
      setWhere: eq(messagingIdentities.accountId, row.accountId),
    });

export const deleteIdentity = (db: Db, accountId: string, deviceId: string) =>
  db.delete(messagingIdentities).where(and(eq(messagingIdentities.accountId, accountId), eq(messagingIdentities.deviceId, deviceId)));

/** The identities other accounts hold for a number, removed when a newer verification takes it. */
export const deleteOthersHolding = (db: Db, accountId: string, numberIndex: string, deviceIds: string[]) =>
  db
    .delete(messagingIdentities)
    .where(
      and(
        eq(messagingIdentities.numberIndex, numberIndex),
        ne(messagingIdentities.accountId, accountId),
        inArray(messagingIdentities.deviceId, deviceIds),
      ),
    );

/**
 * Aborts the write it is part of when another account still holds the number (after that write's
 * own removals): a concurrent claim cannot leave the number with two accounts.
 */
export const guardHeldByOtherAccount = (accountId: string, numberIndex: string) =>
  guard(sql`EXISTS (SELECT 1 FROM messaging_identities WHERE number_index = ${numberIndex} AND account_id <> ${accountId})`);

export async function countIdentityOfDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(messagingIdentities)
    .where(and(eq(messagingIdentities.accountId, accountId), eq(messagingIdentities.deviceId, deviceId)));
  return Number(row?.n ?? 0);
}

// ---- the account's block list ----

export async function findBlock(db: Db, accountId: string, numberIndex: string) {
  const [row] = await db
    .select()
    .from(messageBlocks)
    .where(and(eq(messageBlocks.accountId, accountId), eq(messageBlocks.numberIndex, numberIndex)));
  return row;
}

/** Blocking again keeps the first row (and its time). */
export const insertBlock = (db: Db, row: typeof messageBlocks.$inferInsert) => db.insert(messageBlocks).values(row).onConflictDoNothing();

export const deleteBlock = (db: Db, accountId: string, numberIndex: string) =>
  db.delete(messageBlocks).where(and(eq(messageBlocks.accountId, accountId), eq(messageBlocks.numberIndex, numberIndex)));

export function blocksOfAccount(db: Db, accountId: string) {
  return db
    .select()
    .from(messageBlocks)
    .where(eq(messageBlocks.accountId, accountId))
    .orderBy(desc(messageBlocks.createdAt), messageBlocks.numberIndex);
}
