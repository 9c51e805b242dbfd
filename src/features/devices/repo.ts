import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
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

export async function findDeviceByTokenHash(db: Db, tokenHash: string) {
  const [row] = await db.select().from(devices).where(eq(devices.tokenHash, tokenHash)).limit(1);
  return row;
}

export async function findDevice(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select()
    .from(devices)
    .where(and(eq(devices.id, id), eq(devices.accountId, accountId)))
    .limit(1);
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
