import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { guard, inChunks, type Db } from '../../db/client.js';
import { blobs, blobUsage, uploadParts, uploads } from '../../db/schema.js';

export type BlobRow = typeof blobs.$inferSelect;
export type UploadRow = typeof uploads.$inferSelect;
export type UploadPartRow = typeof uploadParts.$inferSelect;

/**
 * A blob's state, compared so that SQLite cannot answer the lookup from the blobs_age (state,
 * created_at) index: the unary + makes it a plain expression. Without table statistics the
 * planner guesses that index narrower than the primary key and reads every blob in that state,
 * so the cost of releasing or listing a few blobs would grow with the account.
 */
const stateIs = (state: BlobRow['state']) => sql`+${blobs.state} = ${state}`;

export async function insertPendingBlob(db: Db, row: Pick<BlobRow, 'accountId' | 'id' | 'size' | 'sha256' | 'createdAt'>) {
  await db.insert(blobUsage).values({ accountId: row.accountId }).onConflictDoNothing();
  await db.insert(blobs).values({ ...row, state: 'pending', refs: 0, committedAt: null });
}

export async function readBytesUsed(db: Db, accountId: string) {
  const [row] = await db.select({ bytesUsed: blobUsage.bytesUsed }).from(blobUsage).where(eq(blobUsage.accountId, accountId));
  return row?.bytesUsed ?? 0;
}

/**
 * Commits a stored blob and counts it against the quota in one atomic write; the guard makes
 * two uploads racing for the last bytes of a quota unable to both succeed.
 */
export function commitBlobStatements(db: Db, blob: Pick<BlobRow, 'accountId' | 'id' | 'size'>, quota: number, now: number) {
  return [
    guard(sql`(SELECT bytes_used FROM blob_usage WHERE account_id = ${blob.accountId}) + ${blob.size} > ${quota}`),
    guard(sql`NOT EXISTS (SELECT 1 FROM blobs WHERE account_id = ${blob.accountId} AND id = ${blob.id} AND +state = 'pending')`),
    db
      .update(blobUsage)
      .set({ bytesUsed: sql`${blobUsage.bytesUsed} + ${blob.size}` })
      .where(eq(blobUsage.accountId, blob.accountId)),
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

const blobIs = (accountId: string, id: string) => and(eq(blobs.accountId, accountId), eq(blobs.id, id));

/**
 * An item takes a reference. The guard aborts the caller's whole write unless the blob is
 * committed and this account's, so a blob already marked deleting can never gain one.
 */
export const attachStatements = (db: Db, accountId: string, id: string) => [
  guard(sql`NOT EXISTS (SELECT 1 FROM blobs WHERE account_id = ${accountId} AND id = ${id} AND +state = 'committed')`),
  db.update(blobs).set({ refs: sql`${blobs.refs} + 1` }).where(blobIs(accountId, id)),
];

/**
 * Items take one reference to each of these distinct blobs (a sync batch's creates). The guard
 * aborts the caller's whole write unless every one is committed and this account's.
 */
export function attachManyStatements(db: Db, accountId: string, ids: string[]) {
  const these = and(eq(blobs.accountId, accountId), inArray(blobs.id, ids));
  return [
    guard(sql`(SELECT count(*) FROM ${blobs} WHERE ${these} AND ${stateIs('committed')}) <> ${ids.length}`),
    db.update(blobs).set({ refs: sql`${blobs.refs} + 1` }).where(these),
  ];
}

export const detachStatement = (db: Db, accountId: string, id: string) =>
  db.update(blobs).set({ refs: sql`${blobs.refs} - 1` }).where(blobIs(accountId, id));

export const committedBlobsQuery = (db: Db, accountId: string, ids: string[]) =>
  db
    .select({ id: blobs.id, size: blobs.size, sha256: blobs.sha256 })
    .from(blobs)
    .where(and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), stateIs('committed')));

export const committedBlobs = (db: Db, accountId: string, ids: string[]) =>
  inChunks(ids, (chunk) => committedBlobsQuery(db, accountId, chunk));

/**
 * Marks committed blobs that no item references as deleting, and takes their bytes off the quota,
 * together. The mark is one conditional statement on refs = 0 and an attach requires committed,
 * so whichever of the two SQLite runs first wins and a referenced blob is never marked. From
 * then on no item can attach it, so deleting the object is safe.
 */
export function markDeletingStatements(db: Db, accountId: string, ids: string[]) {
  const releasable = and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), stateIs('committed'), eq(blobs.refs, 0));
  return [
    db
      .update(blobUsage)
      .set({
        bytesUsed: sql`${blobUsage.bytesUsed} - (SELECT coalesce(sum(${blobs.size}), 0) FROM ${blobs} WHERE ${releasable})`,
      })
      .where(eq(blobUsage.accountId, accountId)),
    db.update(blobs).set({ state: 'deleting' }).where(releasable),
  ];
}

/** Which of `ids` are marked deleting: the only ones whose objects may go. */
export async function deletingAmong(db: Db, accountId: string, ids: string[]) {
  const rows = await db
    .select({ id: blobs.id })
    .from(blobs)
    .where(and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), stateIs('deleting')));
  return rows.map((r) => r.id);
}

/** Pending blobs whose object can be dropped: no item can reference a pending blob. */
export const markPendingDeleting = (db: Db, accountId: string, id: string) =>
  db
    .update(blobs)
    .set({ state: 'deleting' })
    .where(and(eq(blobs.accountId, accountId), eq(blobs.id, id), stateIs('pending')));

export async function deleteBlobRows(db: Db, accountId: string, ids: string[]) {
  if (ids.length === 0) return;
  await db
    .delete(blobs)
    .where(and(eq(blobs.accountId, accountId), inArray(blobs.id, ids), stateIs('deleting')));
}

/** Blobs to collect: deletions to finish, and pending or unreferenced blobs older than the cutoff. */
export function garbageBlobs(db: Db, createdBefore: number, limit: number) {
  const idle = sql`${blobs.state} = 'pending' OR (${blobs.state} = 'committed' AND ${blobs.refs} = 0)`;
  return db
    .select({ accountId: blobs.accountId, id: blobs.id, state: blobs.state })
    .from(blobs)
    .where(sql`${blobs.state} = 'deleting' OR (${blobs.createdAt} < ${createdBefore} AND (${idle}))`)
    .limit(limit);
}

// ---- multipart uploads ----

export async function insertUpload(db: Db, row: UploadRow) {
  await db.insert(uploads).values(row);
}

const uploadWithBlobState = { upload: uploads, blobState: blobs.state };
const blobOfUpload = and(eq(blobs.accountId, uploads.accountId), eq(blobs.id, uploads.blobId));

/**
 * An upload and its blob's state: pending while parts may arrive, committed once completed (the
 * row then stays as the receipt a retried complete is answered from), null once the blob is gone.
 */
export async function findUpload(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select(uploadWithBlobState)
    .from(uploads)
    .leftJoin(blobs, blobOfUpload)
    .where(and(eq(uploads.accountId, accountId), eq(uploads.id, id)));
  return row;
}

export type UploadWithBlobState = NonNullable<Awaited<ReturnType<typeof findUpload>>>;

export async function findUploadOfBlob(db: Db, accountId: string, blobId: string) {
  const [row] = await db
    .select({ id: uploads.id, storeUploadId: uploads.storeUploadId })
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

export const deletePartsStatement = (db: Db, accountId: string, uploadId: string) =>
  db.delete(uploadParts).where(and(eq(uploadParts.accountId, accountId), eq(uploadParts.uploadId, uploadId)));

export const deleteUploadStatements = (db: Db, accountId: string, uploadId: string) => [
  deletePartsStatement(db, accountId, uploadId),
  db.delete(uploads).where(and(eq(uploads.accountId, accountId), eq(uploads.id, uploadId))),
];

export function expiredUploads(db: Db, now: number, limit: number) {
  return db.select(uploadWithBlobState).from(uploads).leftJoin(blobs, blobOfUpload).where(lt(uploads.expiresAt, now)).limit(limit);
}

// ---- export: committed blobs of the account, a keyset page at a time ----

export const committedPage = (db: Db, accountId: string, afterId: string, limit: number) =>
  db
    .select({ id: blobs.id, size: blobs.size, sha256: blobs.sha256 })
    .from(blobs)
    .where(and(eq(blobs.accountId, accountId), sql`${blobs.id} > ${afterId}`, stateIs('committed')))
    .orderBy(blobs.id)
    .limit(limit);

// ---- deletion (src/features/deletion) ----

/** Items let go of these blobs in a purge; each blob is held by one item at most (items_blob). */
export const detachManyStatement = (db: Db, accountId: string, ids: string[]) =>
  db
    .update(blobs)
    .set({ refs: sql`${blobs.refs} - 1` })
    .where(and(eq(blobs.accountId, accountId), inArray(blobs.id, ids)));

export const uploadsOfAccount = (db: Db, accountId: string) =>
  db.select({ blobId: uploads.blobId, storeUploadId: uploads.storeUploadId }).from(uploads).where(eq(uploads.accountId, accountId));

/** upload_parts has no foreign key to the account, so an account's deletion removes them by hand. */
export const deleteAccountPartsStatement = (db: Db, accountId: string) => db.delete(uploadParts).where(eq(uploadParts.accountId, accountId));

export async function countBlobRows(db: Db, accountId: string) {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(blobs).where(eq(blobs.accountId, accountId));
  return Number(row?.n ?? 0);
}
