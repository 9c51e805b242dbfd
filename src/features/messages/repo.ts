import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { inChunks, type Db, type Statement } from '../../db/client.js';
import { messageCopies } from '../../db/schema.js';

export type CopyRow = typeof messageCopies.$inferSelect;
export type NewCopy = typeof messageCopies.$inferInsert;

// D1 binds at most 100 parameters a query and a copy row has 10 columns, so one send's copies are
// inserted nine rows a statement, all statements in one atomic() write.
const ROWS_PER_INSERT = 9;

/**
 * One send's copies. A copy whose (device, dedupe key) is already there is the same send retried
 * and inserts nothing (the unique index message_copies_dedupe decides, not a prior read).
 */
export function insertCopiesStatements(db: Db, rows: NewCopy[]): Statement[] {
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(
      db
        .insert(messageCopies)
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing({ target: [messageCopies.deviceId, messageCopies.dedupeKey] }),
    );
  }
  return statements;
}

/** How many copies wait for each of these devices (devices with none are left out). */
export async function waitingCounts(db: Db, deviceIds: string[]) {
  const rows = await inChunks(deviceIds, (chunk) =>
    db
      .select({ deviceId: messageCopies.deviceId, n: sql<number>`count(*)` })
      .from(messageCopies)
      .where(inArray(messageCopies.deviceId, chunk))
      .groupBy(messageCopies.deviceId),
  );
  return new Map(rows.map((r) => [r.deviceId, Number(r.n)]));
}

/** Which of these devices already hold the copy with this dedupe key: an earlier try of this send. */
export async function devicesHolding(db: Db, dedupeKey: string, deviceIds: string[]) {
  const rows = await inChunks(deviceIds, (chunk) =>
    db
      .select({ deviceId: messageCopies.deviceId })
      .from(messageCopies)
      .where(and(eq(messageCopies.dedupeKey, dedupeKey), inArray(messageCopies.deviceId, chunk))),
  );
  return new Set(rows.map((r) => r.deviceId));
}

/** The device's queue, oldest first; `limit` rows at most. */
export const queueOf = (db: Db, deviceId: string, limit: number) =>
  db
    .select()
    .from(messageCopies)
    .where(eq(messageCopies.deviceId, deviceId))
    .orderBy(asc(messageCopies.receivedAt), asc(messageCopies.id))
    .limit(limit);

/**
 * Deletes the device's copies with these ids, in one statement keyed by the device: an id of
 * another device's copy matches nothing. The ids travel as one JSON parameter (json_each), so
 * 500 of them stay within D1's 100 bound parameters.
 */
export const deleteDeviceCopies = (db: Db, deviceId: string, ids: string[]) =>
  db
    .delete(messageCopies)
    .where(and(eq(messageCopies.deviceId, deviceId), inArray(messageCopies.id, sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`)));

export const deleteDeviceQueue = (db: Db, accountId: string, deviceId: string) =>
  db.delete(messageCopies).where(and(eq(messageCopies.accountId, accountId), eq(messageCopies.deviceId, deviceId)));

export const deleteReceivedBefore = (db: Db, cutoff: number) => db.delete(messageCopies).where(lt(messageCopies.receivedAt, cutoff));

/** Export: the account's waiting copies, a keyset page at a time. */
export const accountCopiesPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select({
      id: messageCopies.id,
      deviceId: messageCopies.deviceId,
      sealed: messageCopies.sealed,
      size: messageCopies.size,
      receivedAt: messageCopies.receivedAt,
    })
    .from(messageCopies)
    .where(and(eq(messageCopies.accountId, accountId), gt(messageCopies.id, afterId)))
    .orderBy(asc(messageCopies.id))
    .limit(limit);

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(messageCopies)
    .where(and(eq(messageCopies.accountId, accountId), eq(messageCopies.deviceId, deviceId)));
  return Number(row?.n ?? 0);
}
