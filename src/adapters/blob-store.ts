// The one interface every blob store implements: the filesystem (embedded default), any
// S3-compatible store, and R2 on Workers. Keys are always chosen by the server and start with
// the owning account's prefix (see blobKey); no client-chosen path ever reaches a store.

export interface BlobRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface StoredObject {
  body: ReadableStream<Uint8Array>;
  /** Bytes in body (the range's length when a range was asked for). */
  size: number;
  /** Size of the whole object. */
  totalSize: number;
}

export interface MultipartPart {
  partNumber: number;
  etag: string;
}

/** A multipart upload the store still holds parts for. */
export interface UnfinishedMultipart {
  key: string;
  uploadId: string;
  /** When it was started (epoch ms). */
  startedAt: number;
}

export interface PresignedRequest {
  url: string;
  method: 'PUT' | 'GET';
  /** Headers the client must send exactly as given (they may be covered by the signature). */
  headers: Record<string, string>;
  expiresAt: number;
}

export interface BlobStore {
  readonly name: string;
  /**
   * Stores body, which must yield exactly `size` bytes, under key. The object becomes visible
   * whole or not at all. Rejects if the stream errors, or yields more or fewer bytes.
   */
  put(key: string, body: ReadableStream<Uint8Array>, size: number): Promise<void>;
  /** The object (or the inclusive range of it), or null when there is no such object. */
  get(key: string, range?: BlobRange): Promise<StoredObject | null>;
  /**
   * Size, and the store's version tag of the object where it has one: a new tag whenever the object
   * under key is replaced, so that readers can tell two versions apart (the map archive's ETag).
   */
  head(key: string): Promise<{ size: number; etag?: string } | null>;
  /** Deletes the keys that exist; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
  /** Keys under prefix, a page at a time, in lexicographic order. */
  list(prefix: string, cursor?: string): Promise<{ keys: { key: string; size: number }[]; cursor?: string }>;

  createMultipart(key: string): Promise<{ uploadId: string }>;
  /** Parts may arrive in any order; every part but the last must be at least 5 MiB on S3. */
  uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, size: number): Promise<MultipartPart>;
  completeMultipart(key: string, uploadId: string, parts: MultipartPart[]): Promise<void>;
  /** Discards an unfinished upload and its parts; unknown uploads are not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /**
   * Unfinished multipart uploads under accounts/, a page at a time, so garbage collection can
   * abort those no upload row knows (a crash between starting one and recording it). Undefined
   * where the store cannot list them (R2's binding).
   */
  listMultipart?(cursor?: string): Promise<{ uploads: UnfinishedMultipart[]; cursor?: string }>;
  /**
   * Removes the store's own scratch files last written before `before` (epoch ms): what a crash
   * in the middle of a write leaves behind. Only stores that keep such files have it.
   */
  sweepScratch?(before: number): Promise<number>;
  /**
   * Removes what the store keeps under prefix besides objects (temp files, empty folders), once
   * list(prefix) is empty: an account's deletion leaves nothing of it behind. Returns the temp
   * files removed. Only stores that keep such files have it.
   */
  discardPrefix?(prefix: string): Promise<number>;

  /** Direct-to-bucket transfer, where the store can sign requests; undefined where it cannot. */
  presign?: {
    put(key: string, size: number, expiresInSeconds: number): Promise<PresignedRequest>;
    get(key: string, expiresInSeconds: number): Promise<PresignedRequest>;
  };
}

/** Thrown by stores when the backing service cannot be reached or fails; the API answers 503. */
export class BlobStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreUnavailableError';
  }
}

/**
 * Thrown by stores when their disk is full (ENOSPC, EDQUOT) while writing; nothing was stored.
 * The API answers 503 storage_full, retryable once the operator frees space.
 */
export class BlobStoreFullError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreFullError';
  }
}

/** The only way object keys are made: the account prefix first, server-chosen ids after. */
export const blobKey = (accountId: string, blobId: string) => `accounts/${accountId}/blobs/${blobId}`;
export const accountPrefix = (accountId: string) => `accounts/${accountId}/`;

/** The owner and blob a key names, or undefined for a key blobKey did not make. */
export function parseBlobKey(key: string): { accountId: string; blobId: string } | undefined {
  const match = /^accounts\/([^/]+)\/blobs\/([^/]+)$/.exec(key);
  return match ? { accountId: match[1]!, blobId: match[2]! } : undefined;
}

/** Presigned URLs let clients reach the bucket directly; a store offers them only if the operator opts in. */
export const presignIf = (allowed: boolean, store: BlobStore): BlobStore => (allowed ? store : { ...store, presign: undefined });
