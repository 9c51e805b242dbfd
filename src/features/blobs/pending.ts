import { BlobStoreFullError, BlobStoreUnavailableError, blobKey } from '../../adapters/blob-store.js';
import { atomic, isGuardFailure, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { hashStream } from './meter.js';
import * as repo from './repo.js';

// A blob's life before an item can hold it: a pending row, the object in the store, and the one
// atomic write that commits it and counts it against the quota. Every upload path goes through
// these, so "referenced only after it is stored whole and its hash checked" holds for all.

export interface DeclaredBlob {
  size: number;
  sha256: string;
}

export type PendingBlob = DeclaredBlob & { accountId: string; id: string };

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

export const view = (row: Pick<repo.BlobRow, 'id' | 'size' | 'sha256'>) => ({ blobId: row.id, size: row.size, sha256: row.sha256 });

export async function newPendingBlob(deps: Deps, accountId: string, declared: DeclaredBlob): Promise<PendingBlob> {
  await assertFits(deps, accountId, declared.size);
  const blob = { accountId, id: deps.random.id(), size: declared.size, sha256: declared.sha256 };
  await repo.insertPendingBlob(deps.db, { ...blob, createdAt: deps.clock.now() });
  return blob;
}

/**
 * Commits a stored blob, with `alongside` in the same atomic write. Committing twice is not an
 * error: a retry, or a racing request, that finds the blob committed has nothing left to do.
 */
export async function commit(deps: Deps, blob: { accountId: string; id: string; size: number }, alongside: Statement[] = []) {
  try {
    await atomic(deps.db, [...repo.commitBlobStatements(deps.db, blob, deps.config.accountQuotaBytes, deps.clock.now()), ...alongside]);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    if ((await repo.findBlob(deps.db, blob.accountId, blob.id))?.state === 'committed') return;
    const bytesUsed = await repo.readBytesUsed(deps.db, blob.accountId);
    // Either guard may have stopped it: over quota, or the blob was no longer pending.
    if (bytesUsed + blob.size <= deps.config.accountQuotaBytes) throw notFound('blob');
    await discardPending(deps, blob.accountId, blob.id);
    throw quotaExceeded(deps, bytesUsed);
  }
}

/** Drops a blob that never committed: its row, and whatever of its object reached the store. */
export async function discardPending(deps: Deps, accountId: string, blobId: string) {
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
 * Verifies an object the server did not stream itself (multipart, presigned) before committing:
 * wrong bytes discard the blob (422); a store that fails while the object is read back leaves
 * everything as it was (503), so the same request can be retried.
 */
export async function verifyStored(deps: Deps, blob: PendingBlob) {
  let actual;
  try {
    const stored = await deps.blobs.get(blobKey(blob.accountId, blob.id));
    actual = stored && (await hashStream(deps.sha256, stored.body));
  } catch (err) {
    if (err instanceof BlobStoreUnavailableError || err instanceof BlobStoreFullError) throw err;
    throw new BlobStoreUnavailableError(`could not read the stored object back: ${String(err)}`, { cause: err });
  }
  if (!actual || actual.size !== blob.size || actual.sha256 !== blob.sha256) {
    await discardPending(deps, blob.accountId, blob.id);
    throw new AppError(
      'integrity_mismatch',
      actual
        ? `the stored object has ${actual.size} bytes and SHA-256 ${actual.sha256}; expected ${blob.size} and ${blob.sha256}`
        : 'nothing was stored for this blob',
    );
  }
}
