import { parseBlobKey, type UnfinishedMultipart } from '../../adapters/blob-store.js';
import type { Deps } from '../../deps.js';
import * as repo from './repo.js';

// What a crash leaves in the store that no row points to, so collection by rows never finds it:
// scratch files of writes cut short, and multipart uploads started but never recorded (the
// process died between asking the store and inserting the upload row). Only what is older than
// the upload expiry goes: anything younger may belong to a request still running.

/** Sweeps the store's own leftovers and aborts multipart uploads no upload row knows. */
export async function sweepStoreLeftovers(deps: Deps) {
  const cutoff = deps.clock.now() - deps.config.uploadExpiryMs;
  const scratchRemoved = (await deps.blobs.sweepScratch?.(cutoff)) ?? 0;
  let multipartAborted = 0;
  if (deps.blobs.listMultipart) {
    let cursor: string | undefined;
    do {
      const page = await deps.blobs.listMultipart(cursor);
      for (const upload of page.uploads) {
        if (upload.startedAt >= cutoff || (await mustKeep(deps, upload))) continue;
        await deps.blobs.abortMultipart(upload.key, upload.uploadId);
        multipartAborted++;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return { scratchRemoved, multipartAborted };
}

/** An upload row holds it, or its key is not one blobKey makes (so not the server's to touch). */
async function mustKeep(deps: Deps, upload: UnfinishedMultipart) {
  const owner = parseBlobKey(upload.key);
  if (!owner) return true;
  const row = await repo.findUploadOfBlob(deps.db, owner.accountId, owner.blobId);
  return row?.storeUploadId === upload.uploadId;
}
