import { and, asc, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';

export type AuditRow = typeof auditLog.$inferSelect;

export const insertEntry = (db: Db, row: typeof auditLog.$inferInsert) => db.insert(auditLog).values(row);

/** The account's entries newest first, a keyset page at a time before (at, id). */
export const entriesBefore = (db: Db, accountId: string, before: { at: number; id: string } | undefined, limit: number) =>
  db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.accountId, accountId),
        before ? or(lt(auditLog.at, before.at), and(eq(auditLog.at, before.at), lt(auditLog.id, before.id))) : undefined,
      ),
    )
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit);

/**
 * Inserts the entry unless the same session already has one of this action for this device after
 * `since`. One statement (INSERT … SELECT … WHERE NOT EXISTS), so two polls arriving together
 * cannot both add one.
 */
export const insertUnlessSince = (db: Db, row: typeof auditLog.$inferSelect & { deviceId: string; sessionId: string }, since: number) =>
  db.run(sql`INSERT INTO audit_log (account_id, id, at, action, device_id, session_id, detail)
    SELECT ${row.accountId}, ${row.id}, ${row.at}, ${row.action}, ${row.deviceId}, ${row.sessionId}, ${row.detail}
    WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE account_id = ${row.accountId} AND at > ${since}
      AND action = ${row.action} AND device_id = ${row.deviceId} AND session_id = ${row.sessionId})`);

/** Inserts the entry only when accountId is not null: the same statement runs for an unknown account. */
export const insertIfAccount = (db: Db, row: Omit<typeof auditLog.$inferSelect, 'accountId'> & { accountId: string | null }) =>
  db.run(sql`INSERT INTO audit_log (account_id, id, at, action, device_id, session_id, detail)
    SELECT ${row.accountId}, ${row.id}, ${row.at}, ${row.action}, ${row.deviceId}, ${row.sessionId}, ${row.detail}
    WHERE ${row.accountId} IS NOT NULL`);

/** Deletes at most `batch` entries older than the cutoff (D1 limits how long one statement may run). */
export const deleteBefore = (db: Db, cutoff: number, batch: number) =>
  db.run(sql`DELETE FROM audit_log WHERE rowid IN (SELECT rowid FROM audit_log WHERE at < ${cutoff} LIMIT ${batch})`);

/** Export: the account's entries oldest first, a keyset page at a time after (at, id). */
export const entriesPage = (db: Db, accountId: string, after: { at: number; id: string }, limit: number) =>
  db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.accountId, accountId), or(gt(auditLog.at, after.at), and(eq(auditLog.at, after.at), gt(auditLog.id, after.id)))))
    .orderBy(asc(auditLog.at), asc(auditLog.id))
    .limit(limit);

// ---- deletion: a deleted device's entries stay, without its id ----

export async function countForDevice(db: Db, accountId: string, deviceId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(auditLog)
    .where(and(eq(auditLog.accountId, accountId), eq(auditLog.deviceId, deviceId)));
  return Number(row?.n ?? 0);
}

export const anonymiseDevice = (db: Db, accountId: string, deviceId: string) =>
  db
    .update(auditLog)
    .set({ deviceId: null })
    .where(and(eq(auditLog.accountId, accountId), eq(auditLog.deviceId, deviceId)));
