import { type BlobStore, BlobStoreUnavailableError } from './blob-store.js';
import { archiveEtag, type MapArchiveSource } from './map-archive-source.js';

// The map archive kept in the blob store under MAP_ARCHIVE_BLOB_KEY (map/<name>.pmtiles): S3 or
// R2 in production, the fs store too. Keys under map/ are the operator's: garbage collection and
// account purges only ever list and delete under accounts/, so nothing here is ever removed.

export function createBlobMapArchive(blobs: BlobStore, key: string): MapArchiveSource {
  return {
    setting: 'MAP_ARCHIVE_BLOB_KEY',
    async open() {
      const head = await blobs.head(key);
      if (!head) return { unavailable: `the blob store (${blobs.name}) has no object under MAP_ARCHIVE_BLOB_KEY` };
      if (head.size === 0) return { unavailable: 'the object under MAP_ARCHIVE_BLOB_KEY is empty' };
      const { size } = head;
      // The store's own version tag makes the ETag strong; without one, size alone cannot tell two
      // versions apart, so the tag is weak and If-Range never matches it.
      const etag = head.etag ? archiveEtag([key, size, head.etag], 'strong') : archiveEtag([key, size], 'weak');
      return {
        archive: {
          size,
          etag,
          async read(range) {
            const stored = await blobs.get(key, range);
            if (!stored) throw new BlobStoreUnavailableError('the map archive was removed while being read');
            if (stored.totalSize !== size) {
              await stored.body.cancel();
              throw new BlobStoreUnavailableError('the map archive was replaced while being read');
            }
            return stored.body;
          },
          close: async () => {},
        },
      };
    },
  };
}
