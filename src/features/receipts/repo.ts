import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deletionReceipts } from '../../db/schema.js';

export type ReceiptRow = typeof deletionReceipts.$inferSelect;

export const insertReceipt = (db: Db, row: ReceiptRow) => db.insert(deletionReceipts).values(row);

export async function findReceipt(db: Db, id: string) {
  const [row] = await db.select().from(deletionReceipts).where(eq(deletionReceipts.id, id));
  return row;
}

export const receiptsOf = (db: Db, accountId: string) =>
  db.select().from(deletionReceipts).where(eq(deletionReceipts.accountId, accountId)).orderBy(desc(deletionReceipts.createdAt));
