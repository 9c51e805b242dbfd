import { and, asc, desc, eq, gt, gte, inArray, lt, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { commands, locationReports } from '../../db/schema.js';

export type CommandRow = typeof commands.$inferSelect;

export const deleteDeviceLocations = (db: Db, accountId: string, deviceId: string) =>
  db.delete(locationReports).where(and(eq(locationReports.accountId, accountId), eq(locationReports.deviceId, deviceId)));

export const cancelOpenCommands = (db: Db, accountId: string, deviceId: string) =>
  db
    .update(commands)
    .set({ status: 'cancelled' })
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), inArray(commands.status, ['pending', 'delivered'])));

export const insertReport = (db: Db, row: typeof locationReports.$inferInsert) => db.insert(locationReports).values(row);

export function history(db: Db, accountId: string, deviceId: string, from: number, to: number) {
  return db
    .select({ sealed: locationReports.sealed, receivedAt: locationReports.receivedAt })
    .from(locationReports)
    .where(
      and(
        eq(locationReports.accountId, accountId),
        eq(locationReports.deviceId, deviceId),
        gte(locationReports.receivedAt, from),
        lte(locationReports.receivedAt, to),
      ),
    )
    .orderBy(asc(locationReports.receivedAt))
    .limit(5000);
}

export async function deleteReportsBefore(db: Db, cutoff: number) {
  await db.delete(locationReports).where(lt(locationReports.receivedAt, cutoff));
}

// ---- commands ----

export const insertCommand = (db: Db, row: typeof commands.$inferInsert) => db.insert(commands).values(row);

export function listCommands(db: Db, accountId: string, deviceId: string, limit = 50) {
  return db
    .select()
    .from(commands)
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId)))
    .orderBy(desc(commands.createdAt), desc(commands.counter))
    .limit(limit);
}

/** Pending commands of one device, marked delivered as they are handed over. */
export async function takePending(db: Db, accountId: string, deviceId: string, now: number) {
  const pending = await db
    .update(commands)
    .set({ status: 'delivered', deliveredAt: now })
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), eq(commands.status, 'pending')))
    .returning();
  return pending.sort((a, b) => a.counter - b.counter);
}

export async function findCommand(db: Db, accountId: string, deviceId: string, id: string) {
  const [row] = await db
    .select()
    .from(commands)
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), eq(commands.id, id)));
  return row;
}

export async function acknowledge(
  db: Db,
  accountId: string,
  deviceId: string,
  id: string,
  ack: { status: 'succeeded' | 'failed' | 'rejected'; result: string | null; at: number },
) {
  const [row] = await db
    .update(commands)
    .set({ status: ack.status, result: ack.result, acknowledgedAt: ack.at })
    .where(
      and(
        eq(commands.accountId, accountId),
        eq(commands.deviceId, deviceId),
        eq(commands.id, id),
        inArray(commands.status, ['pending', 'delivered']),
      ),
    )
    .returning();
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
