import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { fixedLimit, reusableWrite, type Db } from '../../db/client.js';
import { commands, locationReports } from '../../db/schema.js';

export type CommandRow = typeof commands.$inferSelect;

export const deleteDeviceLocations = (db: Db, accountId: string, deviceId: string) =>
  db.delete(locationReports).where(and(eq(locationReports.accountId, accountId), eq(locationReports.deviceId, deviceId)));

export const cancelOpenCommands = (db: Db, accountId: string, deviceId: string) =>
  db
    .update(commands)
    .set({ status: 'cancelled' })
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), inArray(commands.status, ['pending', 'delivered'])));

type NewReport = typeof locationReports.$inferInsert;
// The write of every location report, rendered once (see reusableWrite).
const reportInsert = reusableWrite<Required<NewReport>>((db) =>
  db.insert(locationReports).values({
    accountId: sql.placeholder('accountId'),
    deviceId: sql.placeholder('deviceId'),
    id: sql.placeholder('id'),
    sealed: sql.placeholder('sealed'),
    receivedAt: sql.placeholder('receivedAt'),
  }),
);
export const insertReport = (db: Db, row: Required<NewReport>) => reportInsert(db, row);

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
    .limit(fixedLimit(5000));
}

export const deleteReportsBefore = (db: Db, cutoff: number) => db.delete(locationReports).where(lt(locationReports.receivedAt, cutoff));

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

/**
 * Hands out one device's due commands: pending ones, delivered ones whose lease passed without an
 * acknowledgement (the reply may never have reached the phone), and, when anything is pending,
 * every unacknowledged one with it, so the phone sees counters in order and an older command is
 * not overtaken by a newer one. One conditional UPDATE … RETURNING, so two concurrent polls never
 * both take the same lease: the second finds it leased.
 */
export async function leaseDue(db: Db, accountId: string, deviceId: string, now: number, leaseMs: number) {
  const open = and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), gt(commands.expiresAt, now));
  const leased = await db
    .update(commands)
    .set({
      status: 'delivered',
      deliveredAt: sql`coalesce(${commands.deliveredAt}, ${now})`,
      leaseUntil: now + leaseMs,
      deliveries: sql`${commands.deliveries} + 1`,
    })
    .where(
      and(
        open,
        inArray(commands.status, ['pending', 'delivered']),
        or(
          eq(commands.status, 'pending'),
          lte(commands.leaseUntil, now),
          sql`EXISTS (SELECT 1 FROM commands p WHERE p.account_id = ${accountId} AND p.device_id = ${deviceId} AND p.status = 'pending' AND p.expires_at > ${now})`,
        ),
      ),
    )
    .returning();
  return leased.sort((a, b) => a.counter - b.counter);
}

/** Unacknowledged commands whose signed expiry has come: of one device, or of everyone (the job). */
export const expireDue = (db: Db, now: number, device?: { accountId: string; deviceId: string }) =>
  db
    .update(commands)
    .set({ status: 'expired', leaseUntil: null })
    .where(
      and(
        inArray(commands.status, ['pending', 'delivered']),
        lte(commands.expiresAt, now),
        ...(device ? [eq(commands.accountId, device.accountId), eq(commands.deviceId, device.deviceId)] : []),
      ),
    );

export async function findCommand(db: Db, accountId: string, deviceId: string, id: string) {
  const [row] = await db
    .select()
    .from(commands)
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId), eq(commands.id, id)));
  return row;
}

/**
 * Records the device's answer to a command it was handed (delivered_at set), once: an answer to
 * one already answered, cancelled or never handed out changes nothing. One that expired while
 * the answer was on its way is recorded, since the phone did act on it before its expiry.
 */
export async function acknowledge(
  db: Db,
  accountId: string,
  deviceId: string,
  id: string,
  ack: { status: 'succeeded' | 'failed' | 'rejected'; result: string | null; at: number },
) {
  const [row] = await db
    .update(commands)
    .set({ status: ack.status, result: ack.result, acknowledgedAt: ack.at, leaseUntil: null })
    .where(
      and(
        eq(commands.accountId, accountId),
        eq(commands.deviceId, deviceId),
        eq(commands.id, id),
        inArray(commands.status, ['delivered', 'expired']),
        isNotNull(commands.deliveredAt),
        isNull(commands.acknowledgedAt),
      ),
    )
    .returning();
  return row;
}

// ---- export: every location report and command of the account, a keyset page at a time ----

export const locationsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select({ id: locationReports.id, deviceId: locationReports.deviceId, sealed: locationReports.sealed, receivedAt: locationReports.receivedAt })
    .from(locationReports)
    .where(and(eq(locationReports.accountId, accountId), gt(locationReports.id, afterId)))
    .orderBy(asc(locationReports.id))
    .limit(limit);

export const commandsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select()
    .from(commands)
    .where(and(eq(commands.accountId, accountId), gt(commands.id, afterId)))
    .orderBy(asc(commands.id))
    .limit(limit);

// ---- deletion: what a device takes with it ----

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [l] = await db
    .select({ n: sql<number>`count(*)` })
    .from(locationReports)
    .where(and(eq(locationReports.accountId, accountId), eq(locationReports.deviceId, deviceId)));
  const [c] = await db
    .select({ n: sql<number>`count(*)` })
    .from(commands)
    .where(and(eq(commands.accountId, accountId), eq(commands.deviceId, deviceId)));
  return { locations: Number(l?.n ?? 0), commands: Number(c?.n ?? 0) };
}
