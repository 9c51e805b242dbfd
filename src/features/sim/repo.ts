import { and, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { commands, simEvents, simVerifications } from '../../db/schema.js';

export type SimEventRow = typeof simEvents.$inferSelect;
export type VerificationRow = typeof simVerifications.$inferSelect;

export const insertEvent = (db: Db, row: typeof simEvents.$inferInsert) => db.insert(simEvents).values(row).onConflictDoNothing();

export async function findEvent(db: Db, accountId: string, deviceId: string, id: string) {
  const [row] = await db
    .select()
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.deviceId, deviceId), eq(simEvents.id, id)));
  return row;
}

export function listEvents(db: Db, accountId: string, deviceId: string) {
  return db
    .select()
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.deviceId, deviceId)))
    .orderBy(desc(simEvents.createdAt))
    .limit(100);
}

export const setEventStatus = (db: Db, accountId: string, id: string, changes: Partial<Pick<SimEventRow, 'status' | 'verifiedNumberSealed' | 'verifiedAt'>>) =>
  db
    .update(simEvents)
    .set(changes)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.id, id)));

export const upsertVerification = (db: Db, row: typeof simVerifications.$inferInsert) =>
  db
    .insert(simVerifications)
    .values(row)
    .onConflictDoUpdate({
      target: [simVerifications.accountId, simVerifications.eventId],
      set: { codeHash: row.codeHash, inboundTokenIndex: row.inboundTokenIndex, attempts: 0, expiresAt: row.expiresAt, sends: sql`${simVerifications.sends} + 1` },
    });

export async function findVerification(db: Db, accountId: string, eventId: string) {
  const [row] = await db
    .select()
    .from(simVerifications)
    .where(and(eq(simVerifications.accountId, accountId), eq(simVerifications.eventId, eventId)));
  return row;
}

export const deleteVerification = (db: Db, accountId: string, eventId: string) =>
  db.delete(simVerifications).where(and(eq(simVerifications.accountId, accountId), eq(simVerifications.eventId, eventId)));

/**
 * Counts one check against the code before it is compared. Only a code still open, unexpired and
 * under five checks is returned, so a sixth guess gets nothing to compare, even if it is right,
 * and concurrent guesses each use up an attempt.
 */
export async function takeAttempt(db: Db, accountId: string, eventId: string, now: number, maxAttempts: number) {
  const [row] = await db
    .update(simVerifications)
    .set({ attempts: sql`${simVerifications.attempts} + 1` })
    .where(
      and(
        eq(simVerifications.accountId, accountId),
        eq(simVerifications.eventId, eventId),
        isNull(simVerifications.consumedAt),
        gt(simVerifications.expiresAt, now),
        lt(simVerifications.attempts, maxAttempts),
      ),
    )
    .returning();
  return row;
}

/** Consuming the row is what makes a code or token single-use: of two racing checks one wins. */
export async function consume(db: Db, accountId: string, eventId: string, now: number) {
  const [row] = await db
    .update(simVerifications)
    .set({ consumedAt: now })
    .where(and(eq(simVerifications.accountId, accountId), eq(simVerifications.eventId, eventId), isNull(simVerifications.consumedAt)))
    .returning();
  return row;
}

export async function findByInboundToken(db: Db, tokenIndex: string, now: number) {
  const [row] = await db
    .select()
    .from(simVerifications)
    .where(and(eq(simVerifications.inboundTokenIndex, tokenIndex), isNull(simVerifications.consumedAt), gt(simVerifications.expiresAt, now)));
  return row;
}

/** Locked as lost: a lock command the owner sent in the last 30 days that was not withdrawn. */
export async function isLockedAsLost(db: Db, accountId: string, deviceId: string, now: number) {
  const [row] = await db
    .select({ id: commands.id })
    .from(commands)
    .where(
      and(
        eq(commands.accountId, accountId),
        eq(commands.deviceId, deviceId),
        eq(commands.type, 'lock'),
        inArray(commands.status, ['pending', 'delivered', 'succeeded']),
        gt(commands.createdAt, now - 30 * 86_400_000),
      ),
    )
    .limit(1);
  return row !== undefined;
}

export async function deleteExpiredVerifications(db: Db, now: number) {
  await db.delete(simVerifications).where(lt(simVerifications.expiresAt, now - 86_400_000));
}
