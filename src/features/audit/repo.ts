import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';

export type AuditRow = typeof auditLog.$inferSelect;

export const insertEntry = (db: Db, row: typeof auditLog.$inferInsert) => db.insert(auditLog).values(row);

export function recentEntries(db: Db, accountId: string, limit: number) {
  return db.select().from(auditLog).where(eq(auditLog.accountId, accountId)).orderBy(desc(auditLog.at)).limit(limit);
}
