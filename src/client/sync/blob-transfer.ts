import { type ApiClient, HomingApiError, HomingNetworkError } from '../api.js';
import { createDecryptStream, createEncryptStream, DEFAULT_CHUNK_SIZE, encryptedSize, type ChunkCipher } from '../crypto/blob-format.js';
import { fromBase64Url, randomBytes } from '../../protocol/encoding.js';
import { type HashFactory, nobleSha256 } from '../../protocol/hash.js';

// Moving encrypted blobs. The server wants the ciphertext's SHA-256 before the body, so a blob is
// encrypted twice with the same nonce prefix: once to hash it, once to send it. Both passes
// stream, so memory stays at one chunk (one part, for multipart uploads) whatever the size.

export interface TransferOptions {
  cipher?: ChunkCipher;
  sha256?: HashFactory;
  /** Called with plaintext bytes done so far. */
  onProgress?: (bytes: number) => void;
  /** Encrypted size above which the upload goes in parts (default MULTIPART_THRESHOLD). */
  multipartThreshold?: number;
  /** How the requests of an upload in parts are retried (default DEFAULT_RETRY). */
  retry?: Partial<RetryPolicy>;
}

/**
 * Retries for the requests of an upload in parts, which are all safe to repeat: a part sent again
 * replaces itself and complete answers the same blob again. Only failures that say "try again"
 * are retried: no answer at all, 503 (nothing was saved) and 429. Retry-After is honoured up to
 * maxDelayMs; otherwise the wait doubles from baseDelayMs, with jitter so clients cut off
 * together do not come back together.
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const isRetryable = (err: unknown) =>
  err instanceof HomingNetworkError || (err instanceof HomingApiError && (err.status === 503 || err.status === 429));

function delayBefore(retry: number, err: unknown, policy: RetryPolicy) {
  const asked = err instanceof HomingApiError ? err.retryAfterSeconds : undefined;
  if (asked !== undefined) return Math.min(asked * 1000, policy.maxDelayMs);
  const backoff = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  return backoff / 2 + (Math.random() * backoff) / 2;
}

/** Runs attempt until it succeeds, fails for a reason a retry cannot fix, or runs out of tries. */
async function withRetries<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.attempts || !isRetryable(err)) throw err;
      await policy.sleep(delayBefore(n, err, policy));
    }
  }
}

/** Blobs above this go up in parts, so a dropped connection costs one part, not the whole. */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;

export interface EncryptedBlobRef {
  blobId: string;
  blobKey: Uint8Array;
  chunkSize: number;
}

function encrypting(source: ReadableStream<Uint8Array>, key: Uint8Array, noncePrefix: Uint8Array, options: TransferOptions) {
  return source.pipeThrough(createEncryptStream(key, { cipher: options.cipher, noncePrefix, chunkSize: DEFAULT_CHUNK_SIZE }));
}

function counting(onProgress?: (bytes: number) => void) {
  let done = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      done += chunk.byteLength;
      onProgress?.(done);
      controller.enqueue(chunk);
    },
  });
}

async function drainHash(stream: ReadableStream<Uint8Array>, hashFactory: HashFactory) {
  const hash = hashFactory();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return hash.hex();
    hash.update(value);
  }
}

/** Encrypts and uploads a blob; `open` must give the same plaintext each time it is called. */
export async function uploadEncrypted(
  api: ApiClient,
  open: () => ReadableStream<Uint8Array>,
  plainSize: number,
  options: TransferOptions = {},
): Promise<EncryptedBlobRef> {
  const blobKey = randomBytes(32);
  const noncePrefix = randomBytes(16);
  const size = encryptedSize(plainSize, DEFAULT_CHUNK_SIZE);
  const sha256 = await drainHash(encrypting(open(), blobKey, noncePrefix, options), options.sha256 ?? nobleSha256);
  const body = encrypting(open().pipeThrough(counting(options.onProgress)), blobKey, noncePrefix, options);

  const blob =
    size <= (options.multipartThreshold ?? MULTIPART_THRESHOLD)
      ? await api.uploadBlob(body, size, sha256)
      : await uploadInParts(api, body, size, sha256, options);
  if (blob.sha256 !== sha256 || blob.size !== size) throw new Error('the server acknowledged a different blob than was sent');
  return { blobId: blob.blobId, blobKey, chunkSize: DEFAULT_CHUNK_SIZE };
}

async function uploadInParts(api: ApiClient, body: ReadableStream<Uint8Array>, size: number, sha256: string, options: TransferOptions) {
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  // A lost answer may hide a created upload; it is never completed and expires on the server.
  const upload = await withRetries(policy, () => api.createUpload({ size, sha256, partSize: PART_SIZE }));
  // After a failed try, the server is asked first whether the part arrived (the request may have
  // reached it and only the answer been lost), so it is sent again only when it did not.
  const sendPart = (partNumber: number, bytes: Uint8Array) =>
    withRetries(policy, async (attempt) => {
      if (attempt > 1 && (await partArrived(api, upload.uploadId, partNumber, bytes.length))) return;
      await api.uploadPart(upload.uploadId, partNumber, bytes);
    });
  try {
    const reader = body.getReader();
    let part = new Uint8Array(upload.partSize);
    let filled = 0;
    let partNumber = 1;
    for (;;) {
      const { done, value } = await reader.read();
      let chunk = value ?? new Uint8Array(0);
      while (chunk.length > 0) {
        const take = Math.min(chunk.length, part.length - filled);
        part.set(chunk.subarray(0, take), filled);
        filled += take;
        chunk = chunk.subarray(take);
        if (filled === part.length) {
          await sendPart(partNumber++, part);
          part = new Uint8Array(upload.partSize);
          filled = 0;
        }
      }
      if (done) break;
    }
    if (filled > 0) await sendPart(partNumber, part.subarray(0, filled));
    return await withRetries(policy, () => api.completeUpload(upload.uploadId));
  } catch (err) {
    await api.abortUpload(upload.uploadId).catch(() => undefined);
    throw err;
  }
}

async function partArrived(api: ApiClient, uploadId: string, partNumber: number, size: number) {
  const status = await api.uploadStatus(uploadId);
  return status.parts.some((p) => p.partNumber === partNumber && p.size === size);
}

/** Downloads a blob and decrypts it as it arrives; the stream errors if anything was tampered with. */
export async function downloadDecrypted(api: ApiClient, blobId: string, blobKey: string | Uint8Array, options: TransferOptions = {}) {
  const key = typeof blobKey === 'string' ? fromBase64Url(blobKey) : blobKey;
  const encrypted = await api.downloadBlob(blobId);
  return encrypted.pipeThrough(createDecryptStream(key, { cipher: options.cipher })).pipeThrough(counting(options.onProgress));
}
