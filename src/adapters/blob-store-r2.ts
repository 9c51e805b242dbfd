import type { FixedLengthStream as FixedLengthStreamType, R2Bucket } from '@cloudflare/workers-types/index.js';
import { type BlobRange, type BlobStore, BlobStoreUnavailableError, type StoredObject } from './blob-store.js';

// The R2 binding on Workers. R2 needs every body's length up front, so bodies reach it through
// workerd's FixedLengthStream. A body that yields more or fewer bytes than `size` is refused
// before R2 sees its end (copyExactly), so R2 stores nothing. Binding failures become
// BlobStoreUnavailableError. R2 signs no URLs through the binding, so there is no presign.

type WebStream = ReadableStream<Uint8Array>;
type FixedLength = new (length: number) => FixedLengthStreamType;

const DELETE_BATCH = 1000;

export function createR2BlobStore(bucket: R2Bucket, options: { listPageSize?: number } = {}): BlobStore {
  const listPageSize = options.listPageSize ?? 1000;

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new BlobStoreUnavailableError(`R2 ${what} failed: ${(error as Error).message}`, { cause: error });
    }
  };

  /** Runs send() on a stream of exactly `size` bytes from body; a body's own error wins. */
  const sized = async <T>(what: string, body: WebStream, size: number, send: (stream: ReadableStream) => Promise<T>) => {
    const Fixed = (globalThis as unknown as { FixedLengthStream: FixedLength }).FixedLengthStream;
    const { readable, writable } = new Fixed(size);
    const sending = send(readable as unknown as ReadableStream);
    const [copied, sent] = await Promise.allSettled([
      copyExactly(body, writable as unknown as WritableStream<Uint8Array>, size, sending),
      sending,
    ]);
    const unavailable = (reason: unknown) =>
      new BlobStoreUnavailableError(`R2 ${what} failed: ${(reason as Error).message}`, { cause: reason });
    if (sent.status === 'rejected' && (copied.status === 'fulfilled' || copied.reason === sent.reason)) throw unavailable(sent.reason);
    if (copied.status === 'rejected') throw copied.reason;
    if (sent.status === 'rejected') throw unavailable(sent.reason);
    return sent.value;
  };

  const getRange = async (key: string, range: BlobRange): Promise<StoredObject | null> => {
    const head = await call('head', () => bucket.head(key));
    if (!head) return null;
    if (range.start >= head.size) throw new RangeError(`range starts at ${range.start}, past the end of ${head.size} bytes`);
    const length = Math.min(range.end, head.size - 1) - range.start + 1;
    const object = await call('get', () => bucket.get(key, { range: { offset: range.start, length }, onlyIf: { etagMatches: head.etag } }));
    if (!object) return null;
    if (!('body' in object)) throw new BlobStoreUnavailableError('R2 get failed: the object changed while being read');
    return { body: object.body as unknown as WebStream, size: length, totalSize: object.size };
  };

  return {
    name: 'r2',

    async put(key, body, size) {
      await sized('put', body, size, (stream) => bucket.put(key, stream as never));
    },

    async get(key, range) {
      if (range) return getRange(key, range);
      const object = await call('get', () => bucket.get(key));
      if (!object) return null;
      return { body: object.body as unknown as WebStream, size: object.size, totalSize: object.size };
    },

    async head(key) {
      const object = await call('head', () => bucket.head(key));
      return object ? { size: object.size, etag: object.etag } : null;
    },

    async delete(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        await call('delete', () => bucket.delete(batch));
      }
    },

    async list(prefix, cursor) {
      const page = await call('list', () => bucket.list({ prefix, cursor, limit: listPageSize }));
      return {
        keys: page.objects.map((o) => ({ key: o.key, size: o.size })),
        cursor: page.truncated ? page.cursor : undefined,
      };
    },

    async createMultipart(key) {
      const upload = await call('createMultipartUpload', () => bucket.createMultipartUpload(key));
      return { uploadId: upload.uploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, size) {
      const upload = bucket.resumeMultipartUpload(key, uploadId);
      const part = await sized('uploadPart', body, size, (stream) => upload.uploadPart(partNumber, stream as never));
      return { partNumber: part.partNumber, etag: part.etag };
    },

    async completeMultipart(key, uploadId, parts) {
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      await call('completeMultipart', () => bucket.resumeMultipartUpload(key, uploadId).complete(sorted));
    },

    async abortMultipart(key, uploadId) {
      try {
        await bucket.resumeMultipartUpload(key, uploadId).abort();
      } catch (error) {
        // R2 answers NoSuchUpload (10024) for an upload already aborted or completed.
        if (/10024|NoSuchUpload|does not exist/i.test((error as Error).message)) return;
        throw new BlobStoreUnavailableError(`R2 abortMultipart failed: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/**
 * Copies body into writable and fails unless it yields exactly `size` bytes. The last chunk is
 * held back until the body ends, so R2 never sees a complete object from a body that turns out
 * too long: a surplus byte arriving after the first `size` would otherwise be too late to stop it.
 * Stops with R2's error if R2 gives up first, rather than waiting on a stream no one reads.
 */
async function copyExactly(body: WebStream, writable: WritableStream<Uint8Array>, size: number, consumer: Promise<unknown>) {
  const consumerFailed = consumer.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      throw error;
    },
  );
  consumerFailed.catch(() => {});
  const unlessFailed = <T>(step: Promise<T>) => {
    step.catch(() => {}); // a step that loses the race rejects later, once the writer is aborted
    return Promise.race([step, consumerFailed]);
  };
  const reader = body.getReader();
  const writer = writable.getWriter();
  let total = 0;
  let held: Uint8Array | undefined;
  try {
    for (;;) {
      const { done, value } = await unlessFailed(reader.read());
      if (done) break;
      total += value.byteLength;
      if (total > size) throw new RangeError(`body is longer than its declared ${size} bytes`);
      if (held) await unlessFailed(writer.write(held));
      held = value;
    }
    if (total < size) throw new RangeError(`body ended after ${total} of its declared ${size} bytes`);
    if (held) await unlessFailed(writer.write(held));
    await unlessFailed(writer.close());
  } catch (error) {
    writer.abort(error).catch(() => {});
    reader.cancel(error).catch(() => {});
    throw error;
  }
}
