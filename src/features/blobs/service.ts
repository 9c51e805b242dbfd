import { blobKey } from '../../adapters/blob-store.js';
import { atomic, inChunks, isGuardFailure, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { createMeter, hashStream } from './meter.js';
import { parseRange } from './range.js';
import * as repo from './repo.js';

export interface DeclaredBlob {
  size: number;
  sha256: string;
}

/** Refuses a blob the account could not hold, before a single byte is read. */
export async function assertFits(deps: Deps, accountId: string, size: number) {
  if (size > deps.config.maxBlobBytes) {
    throw new AppError('blob_too_large', `a blob may be at most ${deps.config.maxBlobBytes} bytes`);
  }
  const bytesUsed = await repo.readBytesUsed(deps.db, accountId);
  if (bytesUsed + size > deps.config.accountQuotaBytes) throw quotaExceeded(deps, bytesUsed);
}

const quotaExceeded = (deps: Deps, bytesUsed: number) =>
  new AppError('quota_exceeded', `the account has ${deps.config.accountQuotaBytes - bytesUsed} bytes of storage left`, {
    details: { bytesUsed, quota: deps.config.accountQuotaBytes },
  });

const view = (row: Pick<repo.BlobRow, 'id' | 'size' | 'sha256'>) => ({ blobId: row.id, size: row.size, sha256: row.sha256 });

async function newPendingBlob(deps: Deps, accountId: string, declared: DeclaredBlob) {
  await assertFits(deps, accountId, declared.size);
  const blob = { accountId, id: deps.random.id(), size: declared.size, sha256: declared.sha256, createdAt: deps.clock.now() };
  await repo.insertPendingBlob(deps.db, blob);
  return blob;
}

async function commit(deps: Deps, blob: { accountId: string; id: string; size: number }) {
  try {
    await atomic(deps.db, repo.commitBlobStatements(deps.db, blob, deps.config.accountQuotaBytes, deps.clock.now()));
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    const bytesUsed = await repo.readBytesUsed(deps.db, blob.accountId);
    // Either guard may have stopped it: over quota, or the blob was no longer pending.
    if (bytesUsed + blob.size <= deps.config.accountQuotaBytes) throw notFound('blob');
    await discardPending(deps, blob.accountId, blob.id);
    throw quotaExceeded(deps, bytesUsed);
  }
}

/** Drops a blob that never committed: its row, and whatever of its object reached the store. */
async function discardPending(deps: Deps, accountId: string, blobId: string) {
  await repo.markPendingDeleting(deps.db, accountId, blobId);
  try {
    await deps.blobs.delete([blobKey(accountId, blobId)]);
    await repo.deleteBlobRows(deps.db, accountId, [blobId]);
  } catch (err) {
    // The row stays marked deleting, so garbage collection finishes the job later.
    deps.log.warn('could not discard a failed upload yet', { accountId, blobId, error: String(err) });
  }
}

/**
 * Streams a blob through to the store while counting and hashing it; only when the store holds
 * it whole, with the declared size and SHA-256, is it committed and counted against the quota.
 * Memory stays flat whatever the size: the body is never buffered.
 */
export async function uploadBlob(deps: Deps, accountId: string, declared: DeclaredBlob, body: ReadableStream<Uint8Array>) {
  const blob = await newPendingBlob(deps, accountId, declared);
  const meter = createMeter(deps.sha256, declared);
  try {
    await deps.blobs.put(blobKey(accountId, blob.id), body.pipeThrough(meter.stream), declared.size);
  } catch (err) {
    await discardPending(deps, accountId, blob.id);
    throw meter.failure() ?? err;
  }
  await commit(deps, blob);
  deps.log.info('blob stored', { accountId, blobId: blob.id, size: blob.size });
  return view(blob);
}

/** Verifies an object the server did not stream itself (multipart, presigned) before committing. */
async function verifyStored(deps: Deps, blob: { accountId: string; id: string; size: number; sha256: string }) {
  const stored = await deps.blobs.get(blobKey(blob.accountId, blob.id));
  const actual = stored ? await hashStream(deps.sha256, stored.body) : { size: 0, sha256: '' };
  if (!stored || actual.size !== blob.size || actual.sha256 !== blob.sha256) {
    await discardPending(deps, blob.accountId, blob.id);
    throw new AppError(
      'integrity_mismatch',
      stored
        ? `the stored object has ${actual.size} bytes and SHA-256 ${actual.sha256}; expected ${blob.size} and ${blob.sha256}`
        : 'nothing was stored for this blob',
    );
  }
}

// ---- resumable multipart uploads ----

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

export async function createUpload(deps: Deps, accountId: string, declared: DeclaredBlob & { partSize?: number }) {
  const partSize = Math.max(declared.partSize ?? 8 * 1024 * 1024, MIN_PART_SIZE, Math.ceil(declared.size / MAX_PARTS));
  const blob = await newPendingBlob(deps, accountId, declared);
  const { uploadId: storeUploadId } = await deps.blobs.createMultipart(blobKey(accountId, blob.id));
  const now = deps.clock.now();
  const upload = {
    accountId,
    id: deps.random.id(),
    blobId: blob.id,
    storeUploadId,
    size: declared.size,
    sha256: declared.sha256,
    partSize,
    createdAt: now,
    expiresAt: now + deps.config.uploadExpiryMs,
  };
  await repo.insertUpload(deps.db, upload);
  return {
    uploadId: upload.id,
    blobId: blob.id,
    partSize,
    partCount: Math.max(1, Math.ceil(declared.size / partSize)),
    expiresAt: upload.expiresAt,
  };
}

async function liveUpload(deps: Deps, accountId: string, uploadId: string) {
  const upload = await repo.findUpload(deps.db, accountId, uploadId);
  if (!upload || upload.expiresAt <= deps.clock.now()) throw notFound('upload');
  return upload;
}

const expectedPartSize = (upload: repo.UploadRow, partNumber: number) => {
  const partCount = Math.max(1, Math.ceil(upload.size / upload.partSize));
  if (partNumber > partCount) return undefined;
  return partNumber < partCount ? upload.partSize : upload.size - upload.partSize * (partCount - 1);
};

export async function uploadPart(
  deps: Deps,
  accountId: string,
  uploadId: string,
  partNumber: number,
  size: number,
  body: ReadableStream<Uint8Array>,
) {
  const upload = await liveUpload(deps, accountId, uploadId);
  const expected = expectedPartSize(upload, partNumber);
  if (expected === undefined) throw new AppError('validation_failed', `path.partNumber: this upload has no part ${partNumber}`);
  if (size !== expected) throw new AppError('integrity_mismatch', `part ${partNumber} must be ${expected} bytes, not ${size}`);
  const part = await deps.blobs.uploadPart(blobKey(accountId, upload.blobId), upload.storeUploadId, partNumber, body, size);
  await repo.recordPart(deps.db, { accountId, uploadId, partNumber, size, etag: part.etag });
  return { partNumber, size };
}

export async function completeUpload(deps: Deps, accountId: string, uploadId: string) {
  const upload = await liveUpload(deps, accountId, uploadId);
  const parts = await repo.listParts(deps.db, accountId, uploadId);
  const partCount = Math.max(1, Math.ceil(upload.size / upload.partSize));
  const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !parts.some((p) => p.partNumber === n));
  if (missing.length > 0) {
    throw new AppError('validation_failed', `parts not uploaded yet: ${missing.slice(0, 20).join(', ')}`, {
      details: { missingParts: missing },
    });
  }
  const key = blobKey(accountId, upload.blobId);
  await deps.blobs.completeMultipart(key, upload.storeUploadId, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
  await atomic(deps.db, repo.deleteUploadStatements(deps.db, accountId, uploadId));
  const blob = { accountId, id: upload.blobId, size: upload.size, sha256: upload.sha256 };
  await verifyStored(deps, blob);
  await commit(deps, blob);
  return view(blob);
}

export async function abortUpload(deps: Deps, accountId: string, uploadId: string) {
  const upload = await repo.findUpload(deps.db, accountId, uploadId);
  if (!upload) throw notFound('upload');
  await endUpload(deps, upload);
}

async function endUpload(deps: Deps, upload: repo.UploadRow) {
  await deps.blobs.abortMultipart(blobKey(upload.accountId, upload.blobId), upload.storeUploadId);
  await atomic(deps.db, repo.deleteUploadStatements(deps.db, upload.accountId, upload.id));
  await discardPending(deps, upload.accountId, upload.blobId);
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
 * expiry age, committed blobs no item references by then, and unfinished deletions.
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
  if (uploadsEnded || garbage.length) deps.log.info('blob garbage collected', { uploadsEnded, blobs: garbage.length });
  return { uploadsEnded, blobs: garbage.length };
}
