import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { guard, inChunks, type Db } from '../../db/client.js';
import { collections, items, syncState } from '../../db/schema.js';

export type CollectionRow = typeof collections.$inferSelect;
export type ItemRow = typeof items.$inferSelect;

// ---- the change sequence ----

export const ensureSyncState = (db: Db, accountId: string) =>
  db.insert(syncState).values({ accountId, seq: 0 }).onConflictDoNothing();

/** Takes the next sequence number; later statements of the same atomic write read it back. */
export const advanceSeq = (db: Db, accountId: string) =>
  db
    .update(syncState)
    .set({ seq: sql`${syncState.seq} + 1` })
    .where(eq(syncState.accountId, accountId));

const currentSeq = (accountId: string) => sql`(SELECT seq FROM sync_state WHERE account_id = ${accountId})`;

export async function readSeq(db: Db, accountId: string) {
  const [row] = await db.select({ seq: syncState.seq }).from(syncState).where(eq(syncState.accountId, accountId));
  return row?.seq ?? 0;
}

// ---- collections ----

export const insertCollection = (db: Db, row: Omit<CollectionRow, 'changeSeq' | 'version'>) =>
  db.insert(collections).values({ ...row, version: 1, changeSeq: currentSeq(row.accountId) });

export const guardCollectionVersion = (accountId: string, id: string, version: number) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM collections WHERE account_id = ${accountId} AND id = ${id} AND version = ${version})`);

export const updateCollection = (db: Db, accountId: string, id: string, encryptedMetadata: string, now: number) =>
  db
    .update(collections)
    .set({ encryptedMetadata, version: sql`${collections.version} + 1`, changeSeq: currentSeq(accountId), updatedAt: now })
    .where(and(eq(collections.accountId, accountId), eq(collections.id, id)));

export async function findCollection(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.accountId, accountId), eq(collections.id, id)));
  return row;
}

export function listCollections(db: Db, accountId: string) {
  return db.select().from(collections).where(eq(collections.accountId, accountId)).orderBy(asc(collections.changeSeq));
}

export const guardCollectionExists = (accountId: string, id: string) =>
  guard(sql`NOT EXISTS (SELECT 1 FROM collections WHERE account_id = ${accountId} AND id = ${id})`);

// ---- items ----

export function findItems(db: Db, accountId: string, ids: string[]) {
  return inChunks(ids, (chunk) =>
    db
      .select()
      .from(items)
      .where(and(eq(items.accountId, accountId), inArray(items.id, chunk))),
  );
}

/** Aborts the write unless the item is at `version` and in one of `states`. */
export const guardItem = (accountId: string, id: string, version: number, states: ItemRow['state'][]) =>
  guard(
    sql`NOT EXISTS (SELECT 1 FROM items WHERE account_id = ${accountId} AND id = ${id} AND version = ${version} AND state IN (${sql.join(
      states.map((s) => sql`${s}`),
      sql`, `,
    )}))`,
  );

export const insertItem = (db: Db, row: Omit<ItemRow, 'changeSeq' | 'version' | 'state' | 'trashedAt'>) =>
  db.insert(items).values({ ...row, version: 1, state: 'live', trashedAt: null, changeSeq: currentSeq(row.accountId) });

export const updateItem = (
  db: Db,
  accountId: string,
  id: string,
  changes: Partial<Pick<ItemRow, 'state' | 'wrappedKey' | 'encryptedMetadata' | 'blobId' | 'trashedAt'>>,
  now: number,
) =>
  db
    .update(items)
    .set({ ...changes, version: sql`${items.version} + 1`, changeSeq: currentSeq(accountId), updatedAt: now })
    .where(and(eq(items.accountId, accountId), eq(items.id, id)));

/** Trashed items whose retention has run out, oldest first. */
export function expiredTrash(db: Db, trashedBefore: number, limit: number) {
  return db
    .select()
    .from(items)
    .where(and(eq(items.state, 'trashed'), lte(items.trashedAt, trashedBefore)))
    .orderBy(asc(items.trashedAt))
    .limit(limit);
}

// ---- delta sync ----

const itemsAfter = (accountId: string, since: number) =>
  and(eq(items.accountId, accountId), gt(items.changeSeq, since));
const collectionsAfter = (accountId: string, since: number) =>
  and(eq(collections.accountId, accountId), gt(collections.changeSeq, since));

/** Up to `limit` rows of each table after `since`, in sequence order: two index range scans. */
export async function changesAfter(db: Db, accountId: string, since: number, limit: number) {
  const [itemRows, collectionRows] = await Promise.all([
    db.select().from(items).where(itemsAfter(accountId, since)).orderBy(asc(items.changeSeq)).limit(limit),
    db.select().from(collections).where(collectionsAfter(accountId, since)).orderBy(asc(collections.changeSeq)).limit(limit),
  ]);
  return { itemRows, collectionRows };
}

/** Every row with since < seq <= through: used to finish a page without splitting a commit. */
export async function changesThrough(db: Db, accountId: string, since: number, through: number) {
  const [itemRows, collectionRows] = await Promise.all([
    db
      .select()
      .from(items)
      .where(and(itemsAfter(accountId, since), lte(items.changeSeq, through)))
      .orderBy(asc(items.changeSeq)),
    db
      .select()
      .from(collections)
      .where(and(collectionsAfter(accountId, since), lte(collections.changeSeq, through)))
      .orderBy(asc(collections.changeSeq)),
  ]);
  return { itemRows, collectionRows };
}
