import { and, asc, eq, gt, gte, inArray, lt, lte, or, SQL, sql, StringChunk, type SQLChunk } from 'drizzle-orm';
import { EachRow, guard, inChunks, reusableRead, reusableWrite, type Db } from '../../db/client.js';
import { collections, items, syncState } from '../../db/schema.js';

export type CollectionRow = typeof collections.$inferSelect;
export type ItemRow = typeof items.$inferSelect;

// ---- the change sequence ----

// Every write of the account takes these, so they are rendered once (see reusableWrite).
const syncStateRow = reusableWrite<{ accountId: string }>((db) =>
  db.insert(syncState).values({ accountId: sql.placeholder('accountId'), seq: 0 }).onConflictDoNothing(),
);
const nextSeq = reusableWrite<{ accountId: string }>((db) =>
  db
    .update(syncState)
    .set({ seq: sql`${syncState.seq} + 1` })
    .where(eq(syncState.accountId, sql.placeholder('accountId'))),
);

export const ensureSyncState = (db: Db, accountId: string) => syncStateRow(db, { accountId });

/** Takes the next sequence number; later statements of the same atomic write read it back. */
export const advanceSeq = (db: Db, accountId: string) => nextSeq(db, { accountId });

const currentSeq = (accountId: string) => sql`(SELECT seq FROM sync_state WHERE account_id = ${accountId})`;

// A push reads these around its write, so they are built once (see reusableRead).
const seqOf = reusableRead((db) => db.select({ seq: syncState.seq }).from(syncState).where(eq(syncState.accountId, sql.placeholder('accountId'))));
const collectionById = reusableRead((db) =>
  db
    .select()
    .from(collections)
    .where(and(eq(collections.accountId, sql.placeholder('accountId')), eq(collections.id, sql.placeholder('id')))),
);

export async function readSeq(db: Db, accountId: string) {
  const [row] = await seqOf(db).all({ accountId });
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
  const [row] = await collectionById(db).all({ accountId, id });
  return row;
}

export function listCollections(db: Db, accountId: string) {
  return db.select().from(collections).where(eq(collections.accountId, accountId)).orderBy(asc(collections.changeSeq));
}

const collectionExists = reusableWrite<{ accountId: string; id: string }>(() =>
  guard(sql`NOT EXISTS (SELECT 1 FROM collections WHERE account_id = ${sql.placeholder('accountId')} AND id = ${sql.placeholder('id')})`),
);
export const guardCollectionExists = (db: Db, accountId: string, id: string) => collectionExists(db, { accountId, id });

// ---- items ----

export function findItems(db: Db, accountId: string, ids: string[]) {
  return inChunks(ids, (chunk) =>
    db
      .select()
      .from(items)
      .where(and(eq(items.accountId, accountId), sql`${items.id} IN ${idList(chunk)}`)),
  );
}

/** The version and sequence number of those of these items that exist: what a batch's answer reads instead of whole rows. */
export const itemVersions = (db: Db, accountId: string, ids: string[]) =>
  inChunks(ids, (chunk) =>
    db
      .select({ id: items.id, version: items.version, changeSeq: items.changeSeq })
      .from(items)
      .where(and(eq(items.accountId, accountId), sql`${items.id} IN ${idList(chunk)}`)),
  );

/** Aborts the write unless the item is at `version` and in one of `states`. */
export const guardItem = (accountId: string, id: string, version: number, states: ItemRow['state'][]) =>
  guard(
    sql`NOT EXISTS (SELECT 1 FROM items WHERE account_id = ${accountId} AND id = ${id} AND version = ${version} AND state IN (${sql.join(
      states.map((s) => sql`${s}`),
      sql`, `,
    )}))`,
  );

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

// ---- a batch's writes: one prepared statement per row on Node, a few multi-row ones on D1 ----
// Each multi-row statement binds at most D1's 100 parameters, and the rows go in chunks of a
// fixed size, so the SQL text repeats from batch to batch.

const MAX_PARAMS = 100;

/** `rows` in chunks as large as `MAX_PARAMS` allows: `fixed` parameters per statement and `perRow` per row. */
function chunked<T>(rows: T[], perRow: number, fixed: number): T[][] {
  const size = Math.floor((MAX_PARAMS - fixed) / perRow);
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  return chunks;
}

const [OPEN, COMMA, NEXT, CLOSE] = ['(', ', ', '), (', ')'].map((text) => new StringChunk(text));

/**
 * `(?, ?), (?, ?)…` binding `rows` for a VALUES list, as one flat list of chunks: drizzle renders
 * a plain value with a few type checks, where nested sql`` or arrays cost a recursion each.
 */
function valuesOf(rows: unknown[][]): SQL {
  const chunks: unknown[] = [];
  rows.forEach((row, r) => row.forEach((value, i) => chunks.push(i > 0 ? COMMA : r > 0 ? NEXT : OPEN, value)));
  chunks.push(CLOSE);
  return new SQL(chunks as SQLChunk[]);
}

/** `(?, ?, …)`: an IN list built flat, as valuesOf builds its rows. */
const idList = (ids: string[]) => valuesOf([ids]);

export type NewItem = Pick<ItemRow, 'id' | 'collectionId' | 'wrappedKey' | 'encryptedMetadata' | 'blobId'>;

const ITEM_COLUMNS = `account_id, id, collection_id, version, state, wrapped_key, encrypted_metadata, blob_id, trashed_at, change_seq, created_at, updated_at`;
/** The sequence number advanceSeq took earlier in the same write. */
const TAKEN_SEQ = `(SELECT seq FROM sync_state WHERE account_id = ?)`;

/** New items at version 1, taking the sequence number advanceSeq took earlier in the same write. */
export const insertItems = (accountId: string, rows: NewItem[], now: number) =>
  new EachRow(
    `INSERT INTO items (${ITEM_COLUMNS}) VALUES (?, ?, ?, 1, 'live', ?, ?, ?, NULL, ${TAKEN_SEQ}, ?, ?)`,
    rows.map((r) => [accountId, r.id, r.collectionId, r.wrappedKey, r.encryptedMetadata, r.blobId, accountId, now, now]),
    () =>
      chunked(rows, 5, 3).map(
        (chunk) => sql`INSERT INTO items (${sql.raw(ITEM_COLUMNS)})
          SELECT s.account_id, v.column1, v.column2, 1, 'live', v.column3, v.column4, v.column5, NULL, s.seq, ${now}, ${now}
          FROM sync_state AS s, (VALUES ${valuesOf(chunk.map((r) => [r.id, r.collectionId, r.wrappedKey, r.encryptedMetadata, r.blobId]))}) AS v
          WHERE s.account_id = ${accountId}`,
      ),
  );

/** Aborts the write unless every one of these items is at its `version` and in one of `states`. */
export const guardItemVersions = (accountId: string, states: ItemRow['state'][], rows: { id: string; version: number }[]) =>
  chunked(rows, 2, 2 + states.length).map((chunk) =>
    guard(
      sql`(SELECT count(*) FROM (VALUES ${valuesOf(chunk.map((r) => [r.id, r.version]))}) AS v
        JOIN items ON items.account_id = ${accountId} AND items.id = v.column1 AND items.version = v.column2
        WHERE items.state IN ${states}) <> ${chunk.length}`,
    ),
  );

/** The same change to each of these items (trash, restore, tombstone), as one new version each. */
export const updateItems = (
  db: Db,
  accountId: string,
  ids: string[],
  changes: Partial<Pick<ItemRow, 'state' | 'wrappedKey' | 'encryptedMetadata' | 'blobId' | 'trashedAt'>>,
  now: number,
) =>
  chunked(ids, 1, Object.keys(changes).length + 3).map((chunk) =>
    db
      .update(items)
      .set({ ...changes, version: sql`${items.version} + 1`, changeSeq: currentSeq(accountId), updatedAt: now })
      .where(and(eq(items.accountId, accountId), inArray(items.id, chunk))),
  );

/**
 * New content for each of these items: metadata always, the wrapped key when given (null keeps
 * it), and the blob when `setBlob` (to `blobId`, null dropping it).
 */
export const updateItemsContent = (
  accountId: string,
  rows: { id: string; encryptedMetadata: string; wrappedKey: string | null; setBlob: boolean; blobId: string | null }[],
  now: number,
) =>
  new EachRow(
    `UPDATE items SET encrypted_metadata = ?, wrapped_key = coalesce(?, wrapped_key), blob_id = CASE WHEN ? THEN ? ELSE blob_id END,
       version = version + 1, change_seq = ${TAKEN_SEQ}, updated_at = ? WHERE account_id = ? AND id = ?`,
    rows.map((r) => [r.encryptedMetadata, r.wrappedKey, r.setBlob ? 1 : 0, r.blobId, accountId, now, accountId, r.id]),
    () =>
      chunked(rows, 5, 3).map(
        (chunk) => sql`UPDATE items SET encrypted_metadata = v.column2, wrapped_key = coalesce(v.column3, items.wrapped_key),
            blob_id = CASE WHEN v.column4 THEN v.column5 ELSE items.blob_id END, version = items.version + 1,
            change_seq = ${currentSeq(accountId)}, updated_at = ${now}
          FROM (VALUES ${valuesOf(chunk.map((r) => [r.id, r.encryptedMetadata, r.wrappedKey, r.setBlob ? 1 : 0, r.blobId]))}) AS v
          WHERE items.account_id = ${accountId} AND items.id = v.column1`,
      ),
  );

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

// ---- export: every row of the account, a keyset page at a time ----

export const collectionsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select()
    .from(collections)
    .where(and(eq(collections.accountId, accountId), gt(collections.id, afterId)))
    .orderBy(asc(collections.id))
    .limit(limit);

export const itemsPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select()
    .from(items)
    .where(and(eq(items.accountId, accountId), gt(items.id, afterId)))
    .orderBy(asc(items.id))
    .limit(limit);

// ---- deletion (src/features/deletion): purges now, and the tombstone window ----

/** The items of these collections that are not tombstones yet, with their blobs. */
export const liveItemsOf = (db: Db, accountId: string, collectionIds: string[]) =>
  inChunks(collectionIds, (chunk) =>
    db
      .select({ id: items.id, collectionId: items.collectionId, blobId: items.blobId })
      .from(items)
      .where(and(eq(items.accountId, accountId), inArray(items.collectionId, chunk), sql`${items.state} <> 'deleted'`)),
  );

/**
 * What any change to a collection's items moves: every write gives the items it touches the
 * newest sequence number (raising the max) and a create adds a row (raising the count).
 */
const itemsSignature = (accountId: string, collectionId: string) =>
  sql`(SELECT coalesce(max(change_seq), 0) || ':' || count(*) FROM items WHERE account_id = ${accountId} AND collection_id = ${collectionId})`;

export async function readItemsSignature(db: Db, accountId: string, collectionId: string) {
  const [row] = await db
    .select({ signature: sql<string>`coalesce(max(${items.changeSeq}), 0) || ':' || count(*)` })
    .from(items)
    .where(and(eq(items.accountId, accountId), eq(items.collectionId, collectionId)));
  return String(row?.signature ?? '0:0');
}

/** Aborts the write if any item of the collection changed since its signature was read. */
export const guardItemsSignature = (accountId: string, collectionId: string, signature: string) =>
  guard(sql`${itemsSignature(accountId, collectionId)} <> ${signature}`);

/** Turns every item of a collection that is not one yet into a tombstone, in the current commit. */
export const tombstoneCollectionItems = (db: Db, accountId: string, collectionId: string, now: number) =>
  db
    .update(items)
    .set({
      state: 'deleted',
      wrappedKey: null,
      encryptedMetadata: null,
      blobId: null,
      trashedAt: null,
      version: sql`${items.version} + 1`,
      changeSeq: currentSeq(accountId),
      updatedAt: now,
    })
    .where(and(eq(items.accountId, accountId), eq(items.collectionId, collectionId), sql`${items.state} <> 'deleted'`));

export const deleteCollection = (db: Db, accountId: string, id: string) =>
  db.delete(collections).where(and(eq(collections.accountId, accountId), eq(collections.id, id)));

export const collectionsOfKind = (db: Db, accountId: string, kind: string) =>
  db
    .select({ id: collections.id })
    .from(collections)
    .where(and(eq(collections.accountId, accountId), eq(collections.kind, kind)));

export async function readPurgedThrough(db: Db, accountId: string) {
  const [row] = await db
    .select({ through: syncState.tombstonesPurgedThrough })
    .from(syncState)
    .where(eq(syncState.accountId, accountId));
  return row?.through ?? 0;
}

/** Accounts with tombstones last changed before the cutoff, and the newest such tombstone of each. */
export const oldTombstones = (db: Db, before: number, limit: number) =>
  db
    .select({ accountId: items.accountId, through: sql<number>`max(${items.changeSeq})` })
    .from(items)
    .where(and(eq(items.state, 'deleted'), lt(items.updatedAt, before)))
    .groupBy(items.accountId)
    .limit(limit);

export const deleteTombstonesThrough = (db: Db, accountId: string, through: number, before: number) =>
  db
    .delete(items)
    .where(and(eq(items.accountId, accountId), eq(items.state, 'deleted'), lte(items.changeSeq, through), lt(items.updatedAt, before)));

export const raisePurgedThrough = (db: Db, accountId: string, through: number) =>
  db
    .update(syncState)
    .set({ tombstonesPurgedThrough: sql`max(${syncState.tombstonesPurgedThrough}, ${through})` })
    .where(eq(syncState.accountId, accountId));

export async function countsOf(db: Db, accountId: string) {
  const [c] = await db.select({ n: sql<number>`count(*)` }).from(collections).where(eq(collections.accountId, accountId));
  const [i] = await db.select({ n: sql<number>`count(*)` }).from(items).where(eq(items.accountId, accountId));
  return { collections: Number(c?.n ?? 0), items: Number(i?.n ?? 0) };
}
