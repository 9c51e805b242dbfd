import { nobleSha256 } from '../protocol/hash.js';
import type { BlobRange } from './blob-store.js';

// The street-map archive (a PMTiles file the operator provides) as GET /v1/map/archive reads it,
// wherever it is kept: a local file (map-archive-file.ts, Node) or a key under map/ in the blob
// store (map-archive-blob.ts: S3, R2, the fs store). A request opens it once and answers from that
// one look, so the size, the ETag and the bytes it sends belong to the same version of the archive.

export interface OpenedMapArchive {
  size: number;
  /**
   * A quoted entity tag. Strong ("…") when it changes with every new version of the archive, so
   * that a reader never joins ranges of two versions; weak (W/"…") when the store cannot tell.
   */
  etag: string;
  /** The bytes, or an inclusive range of them. Uses the opened archive up; throws if it changed meanwhile. */
  read(range?: BlobRange): Promise<ReadableStream<Uint8Array>>;
  /** Lets go of it unread (HEAD, 304, 416). */
  close(): Promise<void>;
}

/** The archive as it is now, or why it cannot be served (a missing file or key, not a file, empty). */
export type MapArchiveOpening = { archive: OpenedMapArchive } | { unavailable: string };

export interface MapArchiveSource {
  /** The setting that names the archive, for logs and messages (never its path). */
  readonly setting: 'MAP_ARCHIVE_FILE' | 'MAP_ARCHIVE_BLOB_KEY';
  /** Opens the archive; a store that cannot be reached throws BlobStoreUnavailableError (503). */
  open(): Promise<MapArchiveOpening>;
}

/** An entity tag made from what identifies one version of the archive; it shows none of it. */
export function archiveEtag(version: (string | number)[], strength: 'strong' | 'weak'): string {
  const hash = nobleSha256();
  hash.update(new TextEncoder().encode(JSON.stringify(version)));
  const tag = `"${hash.hex().slice(0, 32)}"`;
  return strength === 'strong' ? tag : `W/${tag}`;
}
