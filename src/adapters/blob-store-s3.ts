import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type BlobRange, type BlobStore, BlobStoreUnavailableError, type PresignedRequest } from './blob-store.js';
import { READ_AHEAD_BYTES, webStreamOf } from './node-web-stream.js';

export interface S3BlobStoreConfig {
  /** Omit for AWS itself; set for R2, MinIO, Swift, s3rver. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Keys per list page; S3 allows at most 1000. */
  listPageSize?: number;
}

/** Raised when a body yields more or fewer bytes than the size it was stored under. */
class BodySizeError extends Error {
  override name = 'BodySizeError';
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A BlobStore on any S3-compatible service. Checksums are only sent where S3 requires them:
 * otherwise the SDK streams with aws-chunked encoding, which s3rver stores corrupted and Swift
 * refuses. The SDK retries requests without a body; it never retries a streamed upload, since
 * the stream cannot be replayed.
 */
export function createS3BlobStore(config: S3BlobStoreConfig, options: { webStreamBodies?: boolean } = {}): BlobStore {
  const { bucket } = config;
  const pageSize = config.listPageSize ?? 1000;
  const client = makeClient(config);
  const where = describeEndpoint(config);

  /** Runs one request, turning "the service is not there or is failing" into one error type. */
  const call = async <T>(request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw mapError(error, where);
    }
  };

  /** Sends a body that must be exactly size bytes; aborts the request the moment it is not. */
  const sendBody = async <T>(
    body: ReadableStream<Uint8Array>,
    size: number,
    send: (body: Readable | ReadableStream<Uint8Array>, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const abort = new AbortController();
    let bodyError: unknown;
    const onBodyError = (error: unknown) => {
      bodyError = error;
      abort.abort(error);
    };
    // On Workers the SDK sends with fetch, which takes the web stream as it is (a Node Readable
    // there left the isolate hung after large uploads); on Node its HTTP handler wants a Readable.
    const sent = options.webStreamBodies ? exactSize(body, size, onBodyError) : exactReadable(body, size, onBodyError);
    if (sent instanceof Readable) sent.on('error', onBodyError);
    try {
      return await send(sent, abort.signal);
    } catch (error) {
      if (bodyError) throw bodyError;
      throw mapError(error, where);
    } finally {
      if (sent instanceof Readable && !sent.readableEnded) sent.destroy();
    }
  };

  return {
    name: 's3',

    async put(key, body, size) {
      checkSize(size);
      await sendBody(body, size, (Body, abortSignal) =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body, ContentLength: size }), { abortSignal }),
      );
    },

    async get(key, range) {
      if (range) checkRange(range);
      let out;
      try {
        out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        );
      } catch (error) {
        if (errorName(error) === 'NoSuchKey') return null;
        if (errorName(error) === 'InvalidRange' || statusOf(error) === 416) throw new RangeError('range not satisfiable');
        throw mapError(error, where);
      }
      // On Node the SDK's body is the response's IncomingMessage: handed on chunk for chunk, not
      // copied as its transformToWebStream (Readable.toWeb) does.
      const body =
        out.Body instanceof Readable
          ? webStreamOf(out.Body)
          : ((out.Body?.transformToWebStream() as ReadableStream<Uint8Array> | undefined) ?? emptyStream());
      if (!range) {
        const size = out.ContentLength ?? 0;
        return { body, size, totalSize: size };
      }
      // A server may serve more than was asked: s3rver reads "bytes=0-0" as "bytes=0-", and a
      // server may answer 200 with the whole object. Cut the surplus so size is what was asked.
      const served = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
      const [servedStart, servedEnd, totalSize] = served
        ? [Number(served[1]), Number(served[2]), Number(served[3])]
        : [0, (out.ContentLength ?? 0) - 1, out.ContentLength ?? 0];
      if (servedStart !== range.start) {
        await body.cancel();
        throw new Error(`${where} answered range ${range.start}-${range.end} with "${out.ContentRange ?? 'the whole object'}"`);
      }
      const size = Math.min(range.end, totalSize - 1) - range.start + 1;
      return { body: servedEnd - servedStart + 1 > size ? truncate(body, size) : body, size, totalSize };
    },

    async head(key) {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, etag: out.ETag };
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw mapError(error, where);
      }
    },

    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const command = new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        });
        // Swift's s3api refuses DeleteObjects without Content-MD5 (S3 itself accepts the
        // x-amz-checksum-* header the SDK sends). The body is serialized XML by the build step.
        command.middlewareStack.add(
          (next) => async (args) => {
            const request = args.request as { body?: unknown; headers?: Record<string, string> };
            if (typeof request.body === 'string' && request.headers) {
              request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
            }
            return next(args);
          },
          { step: 'build', name: 'homingDeleteObjectsContentMd5' },
        );
        const out = await call(() => client.send(command));
        const failed = out.Errors?.[0];
        if (failed) throw new Error(`could not delete ${failed.Key}: ${failed.Code} ${failed.Message ?? ''}`.trim());
      }
    },

    async list(prefix, cursor) {
      const out = await call(() =>
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: pageSize, ContinuationToken: cursor })),
      );
      const keys = (out.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 }));
      return out.IsTruncated && out.NextContinuationToken ? { keys, cursor: out.NextContinuationToken } : { keys };
    },

    async createMultipart(key) {
      const out = await call(() => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })));
      if (!out.UploadId) throw new Error(`${where} returned no UploadId`);
      return { uploadId: out.UploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, size) {
      checkSize(size);
      const out = await sendBody(body, size, (Body, abortSignal) =>
        client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body, ContentLength: size }),
          { abortSignal },
        ),
      );
      if (!out.ETag) throw new Error(`${where} returned no ETag for part ${partNumber}`);
      return { partNumber, etag: out.ETag };
    },

    async completeMultipart(key, uploadId, parts) {
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      await call(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        ),
      );
    },

    async abortMultipart(key, uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (errorName(error) === 'NoSuchUpload' || statusOf(error) === 404) return;
        throw mapError(error, where);
      }
    },

    async listMultipart(cursor) {
      const [KeyMarker, UploadIdMarker] = cursor ? (JSON.parse(cursor) as [string, string]) : [];
      let out;
      try {
        out = await client.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'accounts/', MaxUploads: pageSize, KeyMarker, UploadIdMarker }),
        );
      } catch (error) {
        // s3rver has no ListMultipartUploads; there is nothing to sweep on a store that cannot list.
        if (errorName(error) === 'NotImplemented' || statusOf(error) === 501) return { uploads: [] };
        throw mapError(error, where);
      }
      const uploads = (out.Uploads ?? [])
        // One with no start time cannot be shown to be old, so it is left alone.
        .filter((u) => u.Key && u.UploadId && u.Initiated)
        .map((u) => ({ key: u.Key!, uploadId: u.UploadId!, startedAt: u.Initiated!.getTime() }));
      const next = out.IsTruncated ? [out.NextKeyMarker, out.NextUploadIdMarker] : undefined;
      return next?.[0] ? { uploads, cursor: JSON.stringify(next) } : { uploads };
    },

    presign: {
      // Content-Length is signed, so the URL stores exactly `size` bytes or nothing.
      async put(key, size, expiresInSeconds) {
        checkSize(size);
        const expiresAt = Date.now() + checkExpiry(expiresInSeconds) * 1000;
        const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: size }), {
          expiresIn: expiresInSeconds,
          signableHeaders: new Set(['content-length']),
        });
        return { url, method: 'PUT', headers: { 'content-length': String(size) }, expiresAt } satisfies PresignedRequest;
      },
      async get(key, expiresInSeconds) {
        const expiresAt = Date.now() + checkExpiry(expiresInSeconds) * 1000;
        const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
        return { url, method: 'GET', headers: {}, expiresAt } satisfies PresignedRequest;
      },
    },
  };
}

/** Creates the bucket unless it exists already: for first start and for tests. */
export async function ensureBucket(config: S3BlobStoreConfig): Promise<void> {
  const client = makeClient(config);
  const where = describeEndpoint(config);
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch (error) {
    if (statusOf(error) !== 404) throw mapError(error, where);
    try {
      await client.send(new CreateBucketCommand({ Bucket: config.bucket }));
    } catch (createError) {
      if (errorName(createError) !== 'BucketAlreadyOwnedByYou') throw mapError(createError, where);
    }
  } finally {
    client.destroy();
  }
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function makeClient(config: S3BlobStoreConfig) {
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Failures reach the caller as errors; without this the SDK also prints a warning to the
    // console whenever a streamed upload fails.
    logger: silent,
    // Fail fast when the store is unreachable; socketTimeout is idle time, so big transfers are fine.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
  });
}

const describeEndpoint = (config: S3BlobStoreConfig) =>
  `S3 store ${config.endpoint ?? `AWS (${config.region})`} bucket ${config.bucket}`;

/**
 * Reads body a chunk at a time, erroring unless it yields exactly size bytes: next() gives the
 * next chunk, or null at the end. The chunk that completes size is held back until the source
 * has ended, so a longer body never reaches the store whole and cannot be committed by a server
 * that stops reading at Content-Length.
 */
function exactChunks(body: ReadableStream<Uint8Array>, size: number, onError?: (error: unknown) => void) {
  const reader = body.getReader();
  let count = 0;
  const readNonEmpty = async () => {
    for (;;) {
      const result = await reader.read();
      if (result.done || result.value.byteLength > 0) return result;
    }
  };
  const fail = (message: string) => {
    const error = new BodySizeError(message);
    void reader.cancel(error).catch(() => {});
    onError?.(error);
    return error;
  };
  const read = async () => {
    try {
      return await readNonEmpty();
    } catch (error) {
      onError?.(error);
      throw error;
    }
  };
  return {
    async next(): Promise<Uint8Array | null> {
      const { done, value } = await read();
      if (done) {
        if (count === size) return null;
        throw fail(`body yielded ${count} bytes, expected ${size}`);
      }
      count += value.byteLength;
      if (count > size || (count === size && !(await read()).done)) throw fail(`body yielded more than ${size} bytes`);
      return value;
    },
    cancel: (reason: unknown) => reader.cancel(reason),
  };
}

/** body as a web stream that errors unless it yields exactly size bytes (see exactChunks). */
function exactSize(body: ReadableStream<Uint8Array>, size: number, onError?: (error: unknown) => void): ReadableStream<Uint8Array> {
  const chunks = exactChunks(body, size, onError);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await chunks.next().catch((error: unknown) => {
        controller.error(error);
        return undefined;
      });
      if (chunk === null) controller.close();
      else if (chunk) controller.enqueue(chunk);
    },
    cancel: (reason) => chunks.cancel(reason),
  });
}

/**
 * body as a Node stream for the SDK's HTTP handler, erroring unless it yields exactly size bytes:
 * one step from the web stream to the socket, where Readable.fromWeb over exactSize took two.
 */
function exactReadable(body: ReadableStream<Uint8Array>, size: number, onError: (error: unknown) => void): Readable {
  const chunks = exactChunks(body, size, onError);
  return new Readable({
    highWaterMark: READ_AHEAD_BYTES,
    read() {
      chunks.next().then(
        (chunk) => this.push(chunk),
        (error: unknown) => this.destroy(error as Error),
      );
    },
    destroy(error, callback) {
      // Ended, there is nothing left to cancel; destroyed early (the request failed), the source stops.
      void chunks.cancel(error ?? undefined).catch(() => {});
      callback(error);
    },
  });
}

const emptyStream = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

/** The first size bytes of body; the rest is never read. */
function truncate(body: ReadableStream<Uint8Array>, size: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let left = size;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = left > 0 ? await reader.read() : undefined;
      if (!next || next.done) {
        controller.close();
        void reader.cancel().catch(() => {});
        return;
      }
      const chunk = next.value.byteLength > left ? next.value.subarray(0, left) : next.value;
      left -= chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

function mapError(error: unknown, where: string): unknown {
  if (error instanceof BlobStoreUnavailableError || error instanceof BodySizeError) return error;
  const reason = unavailableReason(error);
  return reason ? new BlobStoreUnavailableError(`${where} is unavailable: ${reason}`, { cause: error }) : error;
}

function unavailableReason(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; name?: unknown; errors?: unknown; cause?: unknown; message?: unknown };
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'timed out';
  const status = statusOf(error);
  if (status !== undefined && status >= 500) return `HTTP ${status}${typeof e.name === 'string' ? ` ${e.name}` : ''}`;
  for (const inner of Array.isArray(e.errors) ? e.errors : []) {
    const reason = unavailableReason(inner);
    if (reason) return reason;
  }
  return e.cause && e.cause !== error ? unavailableReason(e.cause) : undefined;
}

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

const errorName = (error: unknown): string | undefined => (error as { name?: string } | undefined)?.name;

function checkSize(size: number) {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error('size must be a non-negative integer');
}

function checkRange({ start, end }: BlobRange) {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError('invalid byte range');
  }
}

function checkExpiry(seconds: number) {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 604_800) throw new Error('presigned URLs last 1 s to 7 days');
  return seconds;
}
