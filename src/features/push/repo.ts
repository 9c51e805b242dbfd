import { and, eq, gte, isNull, ne, or, sql } from 'drizzle-orm';
import { atomic, fixedLimit, guard, type Db } from '../../db/client.js';
import { pushSubscriptions } from '../../db/schema.js';

export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect;

/** Who a subscription belongs to: one device (its token registered it) or one session. */
export type Binding = { deviceId: string; sessionId?: undefined } | { sessionId: string; deviceId?: undefined };

export interface SubscriptionInput {
  id: string;
  accountId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  createdAt: number;
}

/**
 * Saves a subscription in one atomic write: the cap is checked by a guard in the same write, so
 * concurrent registrations cannot overshoot it. An endpoint the account already has is rebound
 * and its keys replaced; a device keeps one subscription, so its earlier one goes. A device token
 * acts only for its own device, so a device cannot take over an endpoint another device or a
 * session holds: a guard refuses that too (see endpointHeldByOther).
 */
export async function saveSubscription(db: Db, row: SubscriptionInput, binding: Binding, cap: number) {
  const others = sql`account_id = ${row.accountId} AND endpoint <> ${row.endpoint}`;
  const notThisDevice = binding.deviceId === undefined ? sql`` : sql` AND (device_id IS NULL OR device_id <> ${binding.deviceId})`;
  const bound = { deviceId: binding.deviceId ?? null, sessionId: binding.sessionId ?? null };
  await atomic(db, [
    ...(binding.deviceId === undefined
      ? []
      : [guard(sql`EXISTS (SELECT 1 FROM push_subscriptions WHERE ${heldByOther(row.accountId, row.endpoint, binding.deviceId)})`)]),
    guard(sql`(SELECT count(*) FROM push_subscriptions WHERE ${others}${notThisDevice}) >= ${cap}`),
    ...(binding.deviceId === undefined
      ? []
      : [db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.deviceId, binding.deviceId), ne(pushSubscriptions.endpoint, row.endpoint)))]),
    db
      .insert(pushSubscriptions)
      .values({ ...row, ...bound, failures: 0 })
      .onConflictDoUpdate({
        target: [pushSubscriptions.accountId, pushSubscriptions.endpoint],
        set: { ...bound, p256dh: row.p256dh, auth: row.auth, failures: 0 },
      }),
  ]);
  const [saved] = await db
    .select()
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.accountId, row.accountId), eq(pushSubscriptions.endpoint, row.endpoint)));
  return saved!;
}

/** The account's subscription at `endpoint`, when something other than this device holds it. */
const heldByOther = (accountId: string, endpoint: string, deviceId: string) =>
  and(
    eq(pushSubscriptions.accountId, accountId),
    eq(pushSubscriptions.endpoint, endpoint),
    or(isNull(pushSubscriptions.deviceId), ne(pushSubscriptions.deviceId, deviceId)),
  )!;

export async function endpointHeldByOther(db: Db, accountId: string, endpoint: string, deviceId: string) {
  const [row] = await db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).where(heldByOther(accountId, endpoint, deviceId)).limit(fixedLimit(1));
  return row !== undefined;
}

export const listSubscriptions = (db: Db, accountId: string) =>
  db.select().from(pushSubscriptions).where(eq(pushSubscriptions.accountId, accountId)).orderBy(pushSubscriptions.createdAt);

export const deviceSubscriptions = (db: Db, accountId: string, deviceId: string) =>
  db.select().from(pushSubscriptions).where(and(eq(pushSubscriptions.accountId, accountId), eq(pushSubscriptions.deviceId, deviceId)));

/** The account's session subscriptions and those of its devices other than `exceptDeviceId`. */
export const ownerSubscriptions = (db: Db, accountId: string, exceptDeviceId?: string) =>
  db
    .select()
    .from(pushSubscriptions)
    .where(
      and(
        eq(pushSubscriptions.accountId, accountId),
        exceptDeviceId === undefined ? undefined : or(isNull(pushSubscriptions.deviceId), ne(pushSubscriptions.deviceId, exceptDeviceId)),
      ),
    );

export async function deleteSubscription(db: Db, accountId: string, id: string) {
  const deleted = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.accountId, accountId), eq(pushSubscriptions.id, id)))
    .returning({ id: pushSubscriptions.id });
  return deleted.length === 1;
}

export const deleteDeviceSubscriptions = (db: Db, accountId: string, deviceId: string) =>
  db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.accountId, accountId), eq(pushSubscriptions.deviceId, deviceId)));

export const forgetSubscription = (db: Db, id: string) => db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id));

export const recordSuccess = (db: Db, id: string, at: number) =>
  db.update(pushSubscriptions).set({ lastSuccessAt: at, failures: 0 }).where(eq(pushSubscriptions.id, id));

/** Counts a refused delivery and drops the subscription once it reaches `limit`, in one write. */
export const recordFailure = (db: Db, id: string, limit: number) =>
  atomic(db, [
    db.update(pushSubscriptions).set({ failures: sql`${pushSubscriptions.failures} + 1` }).where(eq(pushSubscriptions.id, id)),
    db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.id, id), gte(pushSubscriptions.failures, limit))),
  ]);

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.accountId, accountId), eq(pushSubscriptions.deviceId, deviceId)));
  return Number(row?.n ?? 0);
}
