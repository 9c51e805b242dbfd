import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import { guard, type Db } from '../../db/client.js';
import { commands, devices, locationReports } from '../../db/schema.js';

export type CommandRow = typeof commands.$inferSelect;

const ownDevice = (accountId: string, deviceId: string) => and(eq(devices.accountId, accountId), eq(devices.id, deviceId));

export async function findDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db.select().from(devices).where(ownDevice(accountId, deviceId));
  return row;
}

export const setFindEnabled = (db: Db, accountId: string, deviceId: string, enabled: boolean) =>
  db
    .update(devices)
    .set(enabled ? { findEnabled: true } : { findEnabled: false, lastLocation: null, lastLocationAt: null })
    .where(ownDevice(accountId, deviceId));

export const deleteDeviceLocations = (db: Db, accountId: string, deviceId: string) =>
  db.delete(locationReports).where(and(eq(locationReports.accountId, accountId), eq(locationReports.deviceId, deviceId)));

export const cancelOpenCommands = (db: Db, accountId: string, deviceId: string) =>
  db
    .update(commands)
    .set({ status: 'cancelled' })
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), inArray(commands.status, ['pending', 'delivered'])));

/** Aborts the write unless Find Device is on for the device. */
export const guardFindEnabled = (deviceId: string) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM devices WHERE id = ${deviceId} AND find_enabled = 1)`);

export const insertReport = (db: Db, row: typeof locationReports.$inferInsert) => db.insert(locationReports).values(row);

export const setLastLocation = (db: Db, deviceId: string, sealed: string, at: number) =>
  db.update(devices).set({ lastLocation: sealed, lastLocationAt: at }).where(eq(devices.id, deviceId));

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

/** Aborts the write unless the counter exceeds every one accepted before for this device. */
export const guardCounter = (deviceId: string, counter: number) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM devices WHERE id = ${deviceId} AND command_counter < ${counter})`);

export const raiseCounter = (db: Db, deviceId: string, counter: number) =>
  db.update(devices).set({ commandCounter: counter }).where(eq(devices.id, deviceId));

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
