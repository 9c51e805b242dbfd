import { blobKey } from '../../adapters/blob-store.js';
import { atomic, inChunks, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { sweepStoreLeftovers } from './leftovers.js';
import { fromClient } from './meter.js';
import { commit, type DeclaredBlob, discardPending, newPendingBlob, verifyStored, view } from './pending.js';
import { parseRange } from './range.js';
import * as repo from './repo.js';
import { endUpload } from './uploads.js';

/**
 * Streams a blob through to the store while counting and hashing it; only when the store holds
 * it whole, with the declared size and SHA-256, is it committed and counted against the quota.
 * Memory stays flat whatever the size: the body is never buffered. A body cut off mid-way is the
 * client's doing, not a fault: it is logged as such and nothing of it is kept.
 */
export async function uploadBlob(deps: Deps, accountId: string, declared: DeclaredBlob, body: ReadableStream<Uint8Array>) {
  const blob = await newPendingBlob(deps, accountId, declared);
  const client = fromClient(body, { ...declared, hash: deps.sha256 });
  try {
    await deps.blobs.put(blobKey(accountId, blob.id), client.stream, declared.size);
  } catch (err) {
    await discardPending(deps, accountId, blob.id);
    if (client.wasCut()) {
      deps.log.info('upload aborted by client', { accountId, blobId: blob.id });
      throw new AppError('integrity_mismatch', 'the body was cut off before its end; nothing was stored');
    }
    throw client.failure() ?? err;
  }
  await commit(deps, blob);
  deps.log.info('blob stored', { accountId, blobId: blob.id, size: blob.size });
  return view(blob);
}

// ---- direct-to-bucket transfer ----

const PRESIGN_SECONDS = 15 * 60;

function presigner(deps: Deps) {
  if (!deps.blobs.presign) {
    throw new AppError('validation_failed', 'this server stores blobs itself; upload through POST /v1/blobs instead');
  }
  return deps.blobs.presign;
}

export async function presignUpload(deps: Deps, accountId: string, declared: DeclaredBlob) {
  const presign = presigner(deps);
  const blob = await newPendingBlob(deps, accountId, declared);
  const request = await presign.put(blobKey(accountId, blob.id), declared.size, PRESIGN_SECONDS);
  return { blobId: blob.id, request };
}

export async function commitPresigned(deps: Deps, accountId: string, blobId: string) {
  const blob = await repo.findBlob(deps.db, accountId, blobId);
  if (!blob) throw notFound('blob');
  if (blob.state === 'committed') return view(blob);
  // A blob still being uploaded in parts is committed by completing its upload, not here.
  if (blob.state !== 'pending' || (await repo.findUploadOfBlob(deps.db, accountId, blobId))) throw notFound('blob');
  await verifyStored(deps, blob);
  await commit(deps, blob);
  return view(blob);
}

export async function presignDownload(deps: Deps, accountId: string, blobId: string) {
  const blob = await committedBlob(deps, accountId, blobId);
  return { blobId: blob.id, request: await presigner(deps).get(blobKey(accountId, blob.id), PRESIGN_SECONDS) };
}

// ---- download ----

async function committedBlob(deps: Deps, accountId: string, blobId: string) {
  const blob = await repo.findBlob(deps.db, accountId, blobId);
  if (!blob || blob.state !== 'committed') throw notFound('blob');
  return blob;
}

/** A committed blob's bytes, or one range of them given as an HTTP Range header value. */
export async function downloadBlob(deps: Deps, accountId: string, blobId: string, rangeHeader?: string) {
  const blob = await committedBlob(deps, accountId, blobId);
  const requested = parseRange(rangeHeader, blob.size);
  const range = requested && { start: requested.start, end: Math.min(requested.end, blob.size - 1) };
  const stored = await deps.blobs.get(blobKey(accountId, blobId), range);
  if (!stored) throw new AppError('service_unavailable', 'the blob is missing from storage');
  return { blob, stored, range };
}

// ---- references held by items ----
// The sync feature puts these statements into the same atomic write as the item change, so a
// blob's reference count moves exactly when an item gains or loses it.

/** An item starts referencing the blob; aborts the whole write unless it is committed and this account's. */
export const attachBlob = (deps: Deps, accountId: string, blobId: string): Statement[] =>
  repo.attachStatements(deps.db, accountId, blobId);

/** attachBlob for many items at once: a few statements, in chunks D1 can bind. */
export const attachBlobs = (deps: Deps, accountId: string, blobIds: string[]): Statement[] => {
  // One reference per item, even for a blob two items name (items_blob refuses that, today).
  const distinct = new Set<string>();
  const again: string[] = [];
  for (const id of blobIds) {
    if (distinct.has(id)) again.push(id);
    else distinct.add(id);
  }
  const ids = [...distinct];
  const statements: Statement[] = [];
  for (let i = 0; i < ids.length; i += 90) statements.push(...repo.attachManyStatements(deps.db, accountId, ids.slice(i, i + 90)));
  return [...statements, ...again.flatMap((id) => attachBlob(deps, accountId, id))];
};

/** An item stops referencing the blob. Call releaseBlobs once the write has committed. */
export const detachBlob = (deps: Deps, accountId: string, blobId: string): Statement[] => [
  repo.detachStatement(deps.db, accountId, blobId),
];

/** Size and SHA-256 of those of `blobIds` that are committed, by id. */
export async function committedBlobs(deps: Deps, accountId: string, blobIds: string[]) {
  return new Map((await repo.committedBlobs(deps.db, accountId, blobIds)).map((b) => [b.id, b]));
}

// ---- release and collection ----

/**
 * Deletes those of `blobIds` that no item references any more: first marked (and taken off the
 * quota) so no item can pick them up again, then their objects, then the rows. A blob another
 * item attached meanwhile is left alone. A failure part-way leaves rows marked deleting, which
 * garbage collection finishes.
 */
export async function releaseBlobs(deps: Deps, accountId: string, blobIds: string[]) {
  await inChunks(blobIds, async (chunk) => {
    await atomic(deps.db, repo.markDeletingStatements(deps.db, accountId, chunk));
    const doomed = await repo.deletingAmong(deps.db, accountId, chunk);
    if (doomed.length === 0) return [];
    try {
      await deps.blobs.delete(doomed.map((id) => blobKey(accountId, id)));
      await repo.deleteBlobRows(deps.db, accountId, doomed);
    } catch (err) {
      deps.log.warn('blob deletion deferred to garbage collection', { accountId, count: doomed.length, error: String(err) });
    }
    return [];
  });
}

/**
 * Removes what is not part of an item: expired multipart uploads, blobs still pending after the
 * expiry age, committed blobs no item references by then, unfinished deletions, and what crashes
 * left in the store that no row points to.
 */
export async function collectGarbage(deps: Deps, batch = 500) {
  const now = deps.clock.now();
  let uploadsEnded = 0;
  for (const upload of await repo.expiredUploads(deps.db, now, batch)) {
    await endUpload(deps, upload);
    uploadsEnded++;
  }
  const garbage = await repo.garbageBlobs(deps.db, now - deps.config.uploadExpiryMs, batch);
  for (const blob of garbage) {
    if (blob.state === 'pending') await discardPending(deps, blob.accountId, blob.id);
    else if (blob.state === 'committed') await releaseBlobs(deps, blob.accountId, [blob.id]);
    else {
      await deps.blobs.delete([blobKey(blob.accountId, blob.id)]);
      await repo.deleteBlobRows(deps.db, blob.accountId, [blob.id]);
    }
  }
  const { scratchRemoved, multipartAborted } = await sweepStoreLeftovers(deps);
  if (uploadsEnded || garbage.length || scratchRemoved || multipartAborted) {
    deps.log.info('blob garbage collected', { uploadsEnded, blobs: garbage.length, scratchRemoved, multipartAborted });
  }
  return { uploadsEnded, blobs: garbage.length, scratchRemoved, multipartAborted };
}

// ---- export (src/features/export) ----

/** One page of the account's committed blobs, in id order after `afterId`. */
export const exportBlobsPage = (deps: Deps, accountId: string, afterId: string, limit: number) =>
  repo.committedPage(deps.db, accountId, afterId, limit);

/**
 * The stored bytes of a blob for the export, or null when the blob went (deleted since it was
 * listed). A blob still committed whose object is missing is a fault, not a deletion: it throws,
 * so the archive fails loudly instead of leaving the blob out.
 */
export async function openBlobForExport(deps: Deps, accountId: string, blobId: string) {
  const stored = await deps.blobs.get(blobKey(accountId, blobId));
  if (stored) return stored;
  const row = await repo.findBlob(deps.db, accountId, blobId);
  if (!row || row.state !== 'committed') return null;
  throw new AppError('service_unavailable', `blob ${blobId} is committed but missing from storage`);
}

// ---- deletion (src/features/deletion) ----

/** A purge's items let go of these blobs, in chunks D1 can bind; call releaseBlobs after the write. */
export const detachBlobs = (deps: Deps, accountId: string, blobIds: string[]): Statement[] => {
  const statements: Statement[] = [];
  for (let i = 0; i < blobIds.length; i += 90) statements.push(repo.detachManyStatement(deps.db, accountId, blobIds.slice(i, i + 90)));
  return statements;
};

/** Aborts every multipart upload the account's rows know of in the store; returns how many. */
export async function abortAccountUploads(deps: Deps, accountId: string) {
  const rows = await repo.uploadsOfAccount(deps.db, accountId);
  for (const row of rows) await deps.blobs.abortMultipart(blobKey(accountId, row.blobId), row.storeUploadId);
  return rows.length;
}

/** Rows an account deletion must remove itself (no cascade reaches them). */
export const forgetAccountStatements = (deps: Deps, accountId: string): Statement[] => [repo.deleteAccountPartsStatement(deps.db, accountId)];

export const countBlobRows = (deps: Deps, accountId: string) => repo.countBlobRows(deps.db, accountId);
