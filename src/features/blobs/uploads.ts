import { BlobStoreFullError, BlobStoreUnavailableError, blobKey } from '../../adapters/blob-store.js';
import { atomic } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { fromClient } from './meter.js';
import { commit, type DeclaredBlob, discardPending, newPendingBlob, type PendingBlob, verifyStored, view } from './pending.js';
import * as repo from './repo.js';

// Resumable multipart uploads. The upload's rows outlive every failure short of success: parts
// are forgotten only in the atomic write that commits the blob, so a complete that failed (the
// store went away, the disk filled, the process died) is finished by sending it again. The
// upload row itself stays until it expires, as the receipt a repeated complete is answered from.

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

const partCountOf = (upload: { size: number; partSize: number }) => Math.max(1, Math.ceil(upload.size / upload.partSize));

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
  return { uploadId: upload.id, blobId: blob.id, partSize, partCount: partCountOf(upload), expiresAt: upload.expiresAt };
}

/** This account's unexpired upload whose blob is still there; anything else is 404, like an unknown id. */
async function knownUpload(deps: Deps, accountId: string, uploadId: string) {
  const found = await repo.findUpload(deps.db, accountId, uploadId);
  if (!found || found.upload.expiresAt <= deps.clock.now()) throw notFound('upload');
  const state = found.blobState === 'pending' ? 'open' : found.blobState === 'committed' ? 'completed' : undefined;
  if (!state) throw notFound('upload');
  return { ...found.upload, state } as const;
}

const blobOf = (upload: repo.UploadRow): PendingBlob => ({
  accountId: upload.accountId,
  id: upload.blobId,
  size: upload.size,
  sha256: upload.sha256,
});

const alreadyCompleted = () => new AppError('conflict', 'this upload is complete; it takes no more parts');

/** What the server holds of an upload, so a client that lost track can send only what is missing. */
export async function uploadStatus(deps: Deps, accountId: string, uploadId: string) {
  const upload = await knownUpload(deps, accountId, uploadId);
  const parts = await repo.listParts(deps.db, accountId, uploadId);
  return {
    uploadId: upload.id,
    blobId: upload.blobId,
    size: upload.size,
    sha256: upload.sha256,
    partSize: upload.partSize,
    partCount: partCountOf(upload),
    expiresAt: upload.expiresAt,
    state: upload.state,
    parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag.replaceAll('"', '') })),
  };
}

const expectedPartSize = (upload: repo.UploadRow, partNumber: number) => {
  const partCount = partCountOf(upload);
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
  const upload = await knownUpload(deps, accountId, uploadId);
  if (upload.state === 'completed') throw alreadyCompleted();
  const expected = expectedPartSize(upload, partNumber);
  if (expected === undefined) throw new AppError('validation_failed', `path.partNumber: this upload has no part ${partNumber}`);
  if (size !== expected) throw new AppError('integrity_mismatch', `part ${partNumber} must be ${expected} bytes, not ${size}`);
  const client = fromClient(body);
  let part;
  try {
    part = await deps.blobs.uploadPart(blobKey(accountId, upload.blobId), upload.storeUploadId, partNumber, client.stream, size);
  } catch (err) {
    if (!client.wasCut()) throw err;
    deps.log.info('upload aborted by client', { accountId, uploadId, partNumber });
    throw new AppError('integrity_mismatch', `part ${partNumber} was cut off before its end; nothing was stored`);
  }
  await repo.recordPart(deps.db, { accountId, uploadId, partNumber, size, etag: part.etag });
  return { partNumber, size };
}

export async function completeUpload(deps: Deps, accountId: string, uploadId: string) {
  const upload = await knownUpload(deps, accountId, uploadId);
  const blob = blobOf(upload);
  if (upload.state === 'completed') return view(blob);
  const parts = await repo.listParts(deps.db, accountId, uploadId);
  const missing = Array.from({ length: partCountOf(upload) }, (_, i) => i + 1).filter((n) => !parts.some((p) => p.partNumber === n));
  if (missing.length > 0) {
    throw new AppError('validation_failed', `parts not uploaded yet: ${missing.slice(0, 20).join(', ')}`, {
      details: { missingParts: missing },
    });
  }
  await joinParts(deps, upload, parts);
  try {
    await verifyStored(deps, blob);
    await commit(deps, blob, [repo.deletePartsStatement(deps.db, accountId, uploadId)]);
  } catch (err) {
    // An AppError here means the blob was discarded (wrong bytes, no room in the quota) or had
    // gone already; its upload goes with it. Store failures leave both for a retry.
    if (err instanceof AppError) await atomic(deps.db, repo.deleteUploadStatements(deps.db, accountId, uploadId));
    throw err;
  }
  return view(blob);
}

/**
 * Asks the store to join the parts, unless an earlier complete got that far (then crashed, or
 * lost the store's answer): the object is then in place already, and the store may have forgotten
 * the upload or (s3rver) fail a second join. Only a join makes an object under this key.
 */
async function joinParts(deps: Deps, upload: repo.UploadRow, parts: repo.UploadPartRow[]) {
  const key = blobKey(upload.accountId, upload.blobId);
  if (await deps.blobs.head(key)) return;
  try {
    await deps.blobs.completeMultipart(key, upload.storeUploadId, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
  } catch (err) {
    // A complete racing this one may have joined them first.
    if (err instanceof BlobStoreUnavailableError || err instanceof BlobStoreFullError || !(await deps.blobs.head(key))) throw err;
  }
}

export async function abortUpload(deps: Deps, accountId: string, uploadId: string) {
  const found = await repo.findUpload(deps.db, accountId, uploadId);
  if (!found) throw notFound('upload');
  await endUpload(deps, found);
}

/**
 * Removes an upload's rows. One never completed also loses its parts in the store and its pending
 * blob; a completed one leaves its blob alone, since an item may hold it by now.
 */
export async function endUpload(deps: Deps, { upload, blobState }: repo.UploadWithBlobState) {
  const completed = blobState === 'committed';
  if (!completed) await deps.blobs.abortMultipart(blobKey(upload.accountId, upload.blobId), upload.storeUploadId);
  await atomic(deps.db, repo.deleteUploadStatements(deps.db, upload.accountId, upload.id));
  if (!completed) await discardPending(deps, upload.accountId, upload.blobId);
}
