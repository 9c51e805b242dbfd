import { and, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import { fixedLimit, type Db } from '../../db/client.js';
import { simEvents, simVerifications } from '../../db/schema.js';

export type SimEventRow = typeof simEvents.$inferSelect;
export type VerificationRow = typeof simVerifications.$inferSelect;

/**
 * One device's SIM event. Event ids are chosen by devices and unique per account, so every read
 * and write below names the device too: another device of the same account that reuses an id
 * can neither see nor change this event or its verification.
 */
export interface EventRef {
  accountId: string;
  deviceId: string;
  eventId: string;
}

const ownEvent = (e: EventRef) => and(eq(simEvents.accountId, e.accountId), eq(simEvents.deviceId, e.deviceId), eq(simEvents.id, e.eventId));
const ownVerification = (e: EventRef) =>
  and(eq(simVerifications.accountId, e.accountId), eq(simVerifications.deviceId, e.deviceId), eq(simVerifications.eventId, e.eventId));

/** Fails with a unique violation when the account already has an event with this id. */
export const insertEvent = (db: Db, row: typeof simEvents.$inferInsert) => db.insert(simEvents).values(row);

/** Which device of the account used an event id, if any. */
export async function eventOwner(db: Db, accountId: string, eventId: string) {
  const [row] = await db
    .select({ deviceId: simEvents.deviceId })
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.id, eventId)));
  return row?.deviceId;
}

export async function findEvent(db: Db, event: EventRef) {
  const [row] = await db.select().from(simEvents).where(ownEvent(event));
  return row;
}

export function listEvents(db: Db, accountId: string, deviceId: string) {
  return db
    .select()
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.deviceId, deviceId)))
    .orderBy(desc(simEvents.createdAt))
    .limit(fixedLimit(100));
}

/** The device's latest SIM event (insertion order breaks a tie in time). */
export async function newestEvent(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select()
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.deviceId, deviceId)))
    .orderBy(desc(simEvents.createdAt), desc(sql`rowid`))
    .limit(fixedLimit(1));
  return row;
}

export const setEventStatus = (db: Db, event: EventRef, changes: Partial<Pick<SimEventRow, 'status' | 'verifiedNumberSealed' | 'verifiedAt'>>) =>
  db.update(simEvents).set(changes).where(ownEvent(event));

export const upsertVerification = (db: Db, row: typeof simVerifications.$inferInsert) =>
  db
    .insert(simVerifications)
    .values(row)
    .onConflictDoUpdate({
      target: [simVerifications.accountId, simVerifications.eventId],
      set: { codeHash: row.codeHash, inboundTokenIndex: row.inboundTokenIndex, attempts: 0, expiresAt: row.expiresAt, sends: sql`${simVerifications.sends} + 1` },
      // Never another device's verification, whatever the caller believed.
      setWhere: eq(simVerifications.deviceId, row.deviceId),
    });

export async function findVerification(db: Db, event: EventRef) {
  const [row] = await db.select().from(simVerifications).where(ownVerification(event));
  return row;
}

export const deleteVerification = (db: Db, event: EventRef) => db.delete(simVerifications).where(ownVerification(event));

/**
 * Counts one check against the code before it is compared. Only a code still open, unexpired and
 * under five checks is returned, so a sixth guess gets nothing to compare, even if it is right,
 * and concurrent guesses each use up an attempt.
 */
export async function takeAttempt(db: Db, event: EventRef, now: number, maxAttempts: number) {
  const [row] = await db
    .update(simVerifications)
    .set({ attempts: sql`${simVerifications.attempts} + 1` })
    .where(
      and(
        ownVerification(event),
        isNull(simVerifications.consumedAt),
        gt(simVerifications.expiresAt, now),
        lt(simVerifications.attempts, maxAttempts),
      ),
    )
    .returning();
  return row;
}

/** Consuming the row is what makes a code or token single-use: of two racing checks one wins. */
export async function consume(db: Db, event: EventRef, now: number) {
  const [row] = await db
    .update(simVerifications)
    .set({ consumedAt: now })
    .where(and(ownVerification(event), isNull(simVerifications.consumedAt)))
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

export const deleteExpiredVerifications = (db: Db, now: number) =>
  db.delete(simVerifications).where(lt(simVerifications.expiresAt, now - 86_400_000));

/** Export: every SIM event of the account, a keyset page at a time. */
export const eventsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select()
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), gt(simEvents.id, afterId)))
    .orderBy(simEvents.id)
    .limit(limit);

// ---- deletion: what a device takes with it ----

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [e] = await db
    .select({ n: sql<number>`count(*)` })
    .from(simEvents)
    .where(and(eq(simEvents.accountId, accountId), eq(simEvents.deviceId, deviceId)));
  const [v] = await db
    .select({ n: sql<number>`count(*)` })
    .from(simVerifications)
    .where(and(eq(simVerifications.accountId, accountId), eq(simVerifications.deviceId, deviceId)));
  return { simEvents: Number(e?.n ?? 0), simVerifications: Number(v?.n ?? 0) };
}
