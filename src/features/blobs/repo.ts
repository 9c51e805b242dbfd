import { and, eq, inArray, lt, notExists, sql } from 'drizzle-orm';
import { guard, type Db } from '../../db/client.js';
import { blobs, items, syncState, uploadParts, uploads } from '../../db/schema.js';

export type BlobRow = typeof blobs.$inferSelect;
export type UploadRow = typeof uploads.$inferSelect;

export async function insertPendingBlob(db: Db, row: Pick<BlobRow, 'accountId' | 'id' | 'size' | 'sha256' | 'createdAt'>) {
  await db.insert(syncState).values({ accountId: row.accountId }).onConflictDoNothing();
  await db.insert(blobs).values({ ...row, state: 'pending', committedAt: null });
}

/**
 * Commits a stored blob and counts it against the quota in one atomic write; the guard makes
 * two uploads racing for the last bytes of a quota unable to both succeed.
 */
export function commitBlobStatements(db: Db, blob: Pick<BlobRow, 'accountId' | 'id' | 'size'>, quota: number, now: number) {
  return [
    guard(sql`(SELECT bytes_used FROM sync_state WHERE account_id = ${blob.accountId}) + ${blob.size} > ${quota}`),
    guard(sql`NOT EXISTS (SELECT 1 FROM blobs WHERE account_id = ${blob.accountId} AND id = ${blob.id} AND state = 'pending')`),
    db
      .update(syncState)
      .set({ bytesUsed: sql`${syncState.bytesUsed} + ${blob.size}` })
      .where(eq(syncState.accountId, blob.accountId)),
    db
      .update(blobs)
      .set({ state: 'committed', committedAt: now })
      .where(and(eq(blobs.accountId, blob.accountId), eq(blobs.id, blob.id))),
  ];
}

export async function findBlob(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select()
    .from(blobs)
    .where(and(eq(blobs.accountId, accountId), eq(blobs.id, id)));
  return row;
}

const unreferenced = notExists(
  sql`(SELECT 1 FROM ${items} WHERE ${items.accountId} = ${blobs.accountId} AND ${items.blobId} = ${blobs.id})`,
);

/**
 * Marks committed blobs that no item references as deleting, and takes their bytes off the quota,
 * together. From then on no item can attach them, so deleting the objects is safe.
 */
export function markDeletingStatements(db: Db, accountId: string, ids: string[]) {
  const releasable = and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), eq(blobs.state, 'committed'), unreferenced);
  return [
    db
      .update(syncState)
      .set({
        bytesUsed: sql`${syncState.bytesUsed} - (SELECT coalesce(sum(${blobs.size}), 0) FROM ${blobs} WHERE ${releasable})`,
      })
      .where(eq(syncState.accountId, accountId)),
    db.update(blobs).set({ state: 'deleting' }).where(releasable),
  ];
}

/** Pending blobs whose object can be dropped: no item can reference a pending blob. */
export const markPendingDeleting = (db: Db, accountId: string, id: string) =>
  db
    .update(blobs)
    .set({ state: 'deleting' })
    .where(and(eq(blobs.accountId, accountId), eq(blobs.id, id), eq(blobs.state, 'pending')));

export async function deleteBlobRows(db: Db, accountId: string, ids: string[]) {
  if (ids.length === 0) return;
  await db
    .delete(blobs)
    .where(and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), eq(blobs.state, 'deleting')));
}

/** Blobs to collect: deletions to finish, and pending or never-attached blobs older than the cutoff. */
export function garbageBlobs(db: Db, createdBefore: number, limit: number) {
  return db
    .select({ accountId: blobs.accountId, id: blobs.id, state: blobs.state })
    .from(blobs)
    .where(
      sql`${blobs.state} = 'deleting' OR (${blobs.createdAt} < ${createdBefore} AND (${blobs.state} = 'pending' OR ${unreferenced}))`,
    )
    .limit(limit);
}

// ---- multipart uploads ----

export async function insertUpload(db: Db, row: UploadRow) {
  await db.insert(uploads).values(row);
}

export async function findUpload(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.accountId, accountId), eq(uploads.id, id)));
  return row;
}

export async function findUploadOfBlob(db: Db, accountId: string, blobId: string) {
  const [row] = await db
    .select({ id: uploads.id })
    .from(uploads)
    .where(and(eq(uploads.accountId, accountId), eq(uploads.blobId, blobId)));
  return row;
}

export async function recordPart(db: Db, part: typeof uploadParts.$inferInsert) {
  await db
    .insert(uploadParts)
    .values(part)
    .onConflictDoUpdate({
      target: [uploadParts.accountId, uploadParts.uploadId, uploadParts.partNumber],
      set: { size: part.size, etag: part.etag },
    });
}

export function listParts(db: Db, accountId: string, uploadId: string) {
  return db
    .select()
    .from(uploadParts)
    .where(and(eq(uploadParts.accountId, accountId), eq(uploadParts.uploadId, uploadId)))
    .orderBy(uploadParts.partNumber);
}

export const deleteUploadStatements = (db: Db, accountId: string, uploadId: string) => [
  db.delete(uploadParts).where(and(eq(uploadParts.accountId, accountId), eq(uploadParts.uploadId, uploadId))),
  db.delete(uploads).where(and(eq(uploads.accountId, accountId), eq(uploads.id, uploadId))),
];

export function expiredUploads(db: Db, now: number, limit: number) {
  return db.select().from(uploads).where(lt(uploads.expiresAt, now)).limit(limit);
}
