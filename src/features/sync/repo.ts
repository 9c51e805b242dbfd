import { and, asc, eq, gt, gte, inArray, lte, or, sql } from 'drizzle-orm';
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

/** Where a page starts: after commit `seq`, or, inside it, after item `afterItemId`. */
export interface ChangesCursor {
  seq: number;
  afterItemId?: string;
}

/**
 * Items after the cursor, up to commit `upTo`, in (commit, id) order. Keyset rather than offset:
 * an item a later commit moves on leaves its old commit, and an offset into that commit would then
 * skip the item after it.
 */
const itemsAfter = (accountId: string, after: ChangesCursor, upTo: number) =>
  and(
    eq(items.accountId, accountId),
    lte(items.changeSeq, upTo),
    after.afterItemId === undefined
      ? gt(items.changeSeq, after.seq)
      : and(gte(items.changeSeq, after.seq), or(gt(items.changeSeq, after.seq), gt(items.id, after.afterItemId))),
  );

/** A commit holds one collection or items, never both, so a page never ends inside a collection commit. */
const collectionsAfter = (accountId: string, after: ChangesCursor, upTo: number) =>
  and(eq(collections.accountId, accountId), gt(collections.changeSeq, after.seq), lte(collections.changeSeq, upTo));

/** Up to `limit` rows of each table after the cursor, in commit order: two index range scans. */
export async function changesAfter(db: Db, accountId: string, after: ChangesCursor, upTo: number, limit: number) {
  const [itemRows, collectionRows] = await Promise.all([
    db.select().from(items).where(itemsAfter(accountId, after, upTo)).orderBy(asc(items.changeSeq), asc(items.id)).limit(limit),
    db
      .select()
      .from(collections)
      .where(collectionsAfter(accountId, after, upTo))
      .orderBy(asc(collections.changeSeq), asc(collections.id))
      .limit(limit),
  ]);
  return { itemRows, collectionRows };
}
