import { and, eq, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { fixedLimit, reusableRead, type Db } from '../../db/client.js';
import { sessions } from '../../db/schema.js';

export type SessionRow = typeof sessions.$inferSelect;

export function insertSession(db: Db, row: typeof sessions.$inferInsert) {
  return db.insert(sessions).values(row);
}

// Every signed-in request starts with this read, so it is built once (see reusableRead).
const byTokenHash = reusableRead((db) => db.select().from(sessions).where(eq(sessions.tokenHash, sql.placeholder('tokenHash'))).limit(fixedLimit(1)));

export async function findSessionByTokenHash(db: Db, tokenHash: string) {
  const [row] = await byTokenHash(db).all({ tokenHash });
  return row;
}

export async function touchSession(db: Db, id: string, now: number) {
  await db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, id));
}

/** Binds a session to the phone it runs on, unless it is bound already; removing that device then ends it. */
export async function bindDevice(db: Db, id: string, deviceId: string) {
  await db
    .update(sessions)
    .set({ deviceId })
    .where(and(eq(sessions.id, id), isNull(sessions.deviceId)));
}

export async function markReauthenticated(db: Db, id: string, now: number) {
  await db.update(sessions).set({ reauthenticatedAt: now, lastUsedAt: now }).where(eq(sessions.id, id));
}

export function listSessions(db: Db, accountId: string) {
  return db.select().from(sessions).where(eq(sessions.accountId, accountId)).orderBy(sessions.createdAt);
}

/** Deletes one session only if it belongs to the account; returns whether one was deleted. */
export async function deleteSession(db: Db, accountId: string, id: string) {
  const deleted = await db
    .delete(sessions)
    .where(and(eq(sessions.id, id), eq(sessions.accountId, accountId)))
    .returning({ id: sessions.id });
  return deleted.length === 1;
}

export function deleteOtherSessions(db: Db, accountId: string, keepId: string) {
  return db
    .delete(sessions)
    .where(and(eq(sessions.accountId, accountId), ne(sessions.id, keepId)))
    .returning({ id: sessions.id });
}

export const deleteDeadSessions = (db: Db, now: number, idleMs: number) =>
  db.delete(sessions).where(or(lt(sessions.expiresAt, now), lt(sessions.lastUsedAt, now - idleMs)));

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.accountId, accountId), eq(sessions.deviceId, deviceId)));
  return rows.length;
}

/** Account deletion: every session ends when the purge begins. */
export const deleteAllOf = (db: Db, accountId: string) => db.delete(sessions).where(eq(sessions.accountId, accountId));

export async function deviceOf(db: Db, id: string) {
  const [row] = await db.select({ deviceId: sessions.deviceId }).from(sessions).where(eq(sessions.id, id));
  return row?.deviceId ?? undefined;
}
