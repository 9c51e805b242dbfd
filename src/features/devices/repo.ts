import { and, eq, isNull, sql } from 'drizzle-orm';
import { fixedLimit, guard, reusableRead, reusableWrite, type Db } from '../../db/client.js';
import { devices } from '../../db/schema.js';

export type DeviceRow = typeof devices.$inferSelect;

/**
 * Registers a device, or re-registers the same hardware for the same account (a reinstall):
 * one upsert that keeps the device id and replaces the token, so the old token dies with it.
 */
export async function upsertDevice(db: Db, row: typeof devices.$inferInsert) {
  const [saved] = await db
    .insert(devices)
    .values(row)
    .onConflictDoUpdate({
      target: [devices.accountId, devices.identifierHash],
      set: { name: row.name, model: row.model, platform: row.platform, tokenHash: row.tokenHash },
    })
    .returning();
  return saved!;
}

// Every device request starts with these two reads, so they are built once (see reusableRead).
const byTokenHash = reusableRead((db) =>
  db.select().from(devices).where(eq(devices.tokenHash, sql.placeholder('tokenHash'))).limit(fixedLimit(1)),
);
const byAccountAndId = reusableRead((db) =>
  db
    .select()
    .from(devices)
    .where(and(eq(devices.id, sql.placeholder('id')), eq(devices.accountId, sql.placeholder('accountId'))))
    .limit(fixedLimit(1)),
);

export async function findDeviceByTokenHash(db: Db, tokenHash: string) {
  const [row] = await byTokenHash(db).all({ tokenHash });
  return row;
}

export async function findDevice(db: Db, accountId: string, id: string) {
  const [row] = await byAccountAndId(db).all({ accountId, id });
  return row;
}

export function listDevices(db: Db, accountId: string) {
  return db.select().from(devices).where(eq(devices.accountId, accountId)).orderBy(devices.createdAt);
}

export async function renameDevice(db: Db, accountId: string, id: string, name: string) {
  const [row] = await db
    .update(devices)
    .set({ name })
    .where(and(eq(devices.id, id), eq(devices.accountId, accountId)))
    .returning();
  return row;
}

export async function deleteDevice(db: Db, accountId: string, id: string) {
  const deleted = await db
    .delete(devices)
    .where(and(eq(devices.id, id), eq(devices.accountId, accountId)))
    .returning({ id: devices.id });
  return deleted.length === 1;
}

export async function touchDevice(db: Db, id: string, now: number) {
  await db.update(devices).set({ lastSeenAt: now }).where(eq(devices.id, id));
}

// ---- Find Device state on the device row: consent, last-known location, command counter, Lost Mode ----

const ownDevice = (accountId: string, deviceId: string) => and(eq(devices.accountId, accountId), eq(devices.id, deviceId));

export const setFindEnabled = (db: Db, accountId: string, deviceId: string, enabled: boolean) =>
  db
    .update(devices)
    .set(enabled ? { findEnabled: true } : { findEnabled: false, lastLocation: null, lastLocationAt: null })
    .where(ownDevice(accountId, deviceId));

// Every location report writes these two, so they are rendered once (see reusableWrite).
const findEnabledGuard = reusableWrite<{ deviceId: string }>(() =>
  guard(sql`NOT EXISTS (SELECT 1 FROM devices WHERE id = ${sql.placeholder('deviceId')} AND find_enabled = 1)`),
);
const lastLocationUpdate = reusableWrite<{ deviceId: string; sealed: string; at: number }>((db) =>
  db
    .update(devices)
    // update().set() takes no bare placeholder; wrapped in sql they bind as they are (text, integer).
    .set({ lastLocation: sql`${sql.placeholder('sealed')}`, lastLocationAt: sql`${sql.placeholder('at')}` })
    .where(eq(devices.id, sql.placeholder('deviceId'))),
);

/** Aborts the write unless Find Device is on for the device. */
export const guardFindEnabled = (db: Db, deviceId: string) => findEnabledGuard(db, { deviceId });

export const setLastLocation = (db: Db, deviceId: string, sealed: string, at: number) => lastLocationUpdate(db, { deviceId, sealed, at });

/** Aborts the write unless the counter exceeds every one accepted before for this device. */
export const guardCounter = (deviceId: string, counter: number) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM devices WHERE id = ${deviceId} AND command_counter < ${counter})`);

export const raiseCounter = (db: Db, deviceId: string, counter: number) =>
  db.update(devices).set({ commandCounter: counter }).where(eq(devices.id, deviceId));

export const beginLostMode = (db: Db, deviceId: string, at: number) =>
  db.update(devices).set({ lostSince: at, lostNotifiedAt: null }).where(and(eq(devices.id, deviceId), isNull(devices.lostSince)));

/**
 * Claims the right to tell the owner that their lost phone reported: one conditional UPDATE, so
 * of several reports at once exactly one wins, and none again until `quietMs` has passed.
 */
export async function claimLostNotice(db: Db, deviceId: string, at: number, quietMs: number) {
  const claimed = await db
    .update(devices)
    .set({ lostNotifiedAt: at })
    .where(
      and(
        eq(devices.id, deviceId),
        sql`${devices.lostSince} IS NOT NULL`,
        sql`(${devices.lostNotifiedAt} IS NULL OR ${devices.lostNotifiedAt} <= ${at - quietMs})`,
      ),
    )
    .returning({ id: devices.id });
  return claimed.length === 1;
}

export const endLostMode = (db: Db, deviceId: string) => db.update(devices).set({ lostSince: null }).where(eq(devices.id, deviceId));

export const deleteDeviceStatement = (db: Db, accountId: string, id: string) =>
  db.delete(devices).where(and(eq(devices.id, id), eq(devices.accountId, accountId)));

/** Account deletion: every device's token stops working when the purge begins. */
export const deleteAllOf = (db: Db, accountId: string) => db.delete(devices).where(eq(devices.accountId, accountId));
