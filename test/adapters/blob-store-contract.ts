import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStore, blobKey } from '../../src/adapters/blob-store.js';
import { digest } from './streams.js';

export interface ContractCapabilities {
  abortMultipart: boolean;
  presign: boolean;
  checksSignatures: boolean;
  /**
   * The flaws of a test double, each true unless stated; a real store must have none:
   * s3rver writes an upload straight into the object's file, so a failed put leaves part of it.
   */
  atomicPut?: boolean;
  /** s3rver lists in directory order, so 'a/b-x' comes after 'a/b/1' and can be skipped by paging. */
  listsInByteOrder?: boolean;
  /** s3rver crashes, rather than failing, when asked to complete with a part never uploaded. */
  validatesParts?: boolean;
  /** s3rver has no ListMultipartUploads, so a store on it lists none. */
  listsMultipart?: boolean;
}

export const MiB = 1024 * 1024;

async function listAllMultipart(store: BlobStore) {
  const all = [];
  let cursor: string | undefined;
  do {
    const page = await store.listMultipart!(cursor);
    all.push(...page.uploads);
    cursor = page.cursor;
  } while (cursor);
  return all;
}

/**
 * The behaviour every BlobStore must share, run against each implementation. setup must make
 * the store with a list page size of 2, so that paging is exercised with a handful of keys.
 * Every test works under fresh account ids, so tests never see each other's objects.
 */
export function describeBlobStoreContract(
  name: string,
  setup: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>,
  capabilities: ContractCapabilities,
) {
  const { atomicPut = true, listsInByteOrder = true, validatesParts = true, listsMultipart = true } = capabilities;
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await setup());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const freshKey = () => blobKey(randomUUID(), randomUUID());

    describe('happy', () => {
      it('round-trips a small object, however the body is chunked', async () => {
        const key = freshKey();
        const bytes = pattern(1000, 1);
        await store.put(key, streamOf(bytes.subarray(0, 1), bytes.subarray(1, 1), bytes.subarray(1, 600), bytes.subarray(600)), 1000);
        const got = await store.get(key);
        expect(got).not.toBeNull();
        expect(got!.size).toBe(1000);
        expect(got!.totalSize).toBe(1000);
        expectBytes(await readAll(got!.body), bytes);
      });

      it('round-trips an empty object', async () => {
        const key = freshKey();
        await store.put(key, streamOf(), 0);
        const got = await store.get(key);
        expect(got).toMatchObject({ size: 0, totalSize: 0 });
        expect((await readAll(got!.body)).length).toBe(0);
        expect(await store.head(key)).toMatchObject({ size: 0 });
      });

      it('round-trips 12 MiB streamed in and out', async () => {
        const key = freshKey();
        const size = 12 * MiB;
        await store.put(key, generated(size, 7), size);
        const got = await store.get(key);
        expect(got).toMatchObject({ size, totalSize: size });
        expect(await digest(got!.body)).toEqual(await digest(generated(size, 7)));
      });

      it('reports the size of an object through head', async () => {
        const key = freshKey();
        await store.put(key, streamOf(pattern(4321, 2)), 4321);
        expect(await store.head(key)).toMatchObject({ size: 4321 });
      });

      it('returns exactly the bytes of a range', async () => {
        const key = freshKey();
        const bytes = pattern(3000, 3);
        await store.put(key, streamOf(bytes), bytes.length);
        for (const [start, end] of [[0, 0], [1000, 1999], [2999, 2999], [0, 2999]] as const) {
          const got = await store.get(key, { start, end });
          expect(got, `${start}-${end}`).toMatchObject({ size: end - start + 1, totalSize: 3000 });
          expectBytes(await readAll(got!.body), bytes.subarray(start, end + 1));
        }
      });

      it('clamps a range that runs past the end', async () => {
        const key = freshKey();
        const bytes = pattern(100, 4);
        await store.put(key, streamOf(bytes), 100);
        const got = await store.get(key, { start: 90, end: 1000 });
        expect(got).toMatchObject({ size: 10, totalSize: 100 });
        expectBytes(await readAll(got!.body), bytes.subarray(90));
      });

      it('replaces an object on overwrite', async () => {
        const key = freshKey();
        await store.put(key, streamOf(pattern(500, 5)), 500);
        await store.put(key, streamOf(pattern(20, 6)), 20);
        expect(await store.head(key)).toMatchObject({ size: 20 });
        expectBytes(await readAll((await store.get(key))!.body), pattern(20, 6));
      });

      it('gives an object replaced by another of the same size a new etag through head', async () => {
        const key = freshKey();
        await store.put(key, streamOf(pattern(64, 9)), 64);
        const first = await store.head(key);
        await store.put(key, streamOf(pattern(64, 10)), 64);
        const second = await store.head(key);
        expect(first?.etag).toEqual(expect.any(String));
        expect(second?.etag).toEqual(expect.any(String));
        expect(second!.etag).not.toBe(first!.etag);
      });

      it('deletes several keys, ignoring missing ones', async () => {
        const [a, b, c, missing] = [freshKey(), freshKey(), freshKey(), freshKey()];
        for (const key of [a, b, c]) await store.put(key!, streamOf(pattern(10, 8)), 10);
        await store.delete([a!, missing!, c!]);
        expect(await store.head(a!)).toBeNull();
        expect(await store.head(c!)).toBeNull();
        expect(await store.get(a!)).toBeNull();
        expect(await store.head(b!)).toMatchObject({ size: 10 });
        await store.delete([]);
      });

      it('lists the keys under a prefix, page by page, and only those', async () => {
        const [a, b] = [randomUUID(), randomUUID()];
        // 'blobs-x' sorts before 'blobs/1' ('-' < '/'), which a walk of folders easily gets wrong.
        const names = ['blobs/1', 'blobs/2', 'blobs/3', 'blobs/30', ...(listsInByteOrder ? ['blobs-x'] : []), 'other/deep/4'];
        const aKeys = names.map((k) => `accounts/${a}/${k}`);
        const others = [`accounts/${b}/blobs/1`, `accounts/${b}/blobs/9`, `accounts/${a}x/blobs/1`, `accounts/${a}-y`];
        for (const [i, key] of [...aKeys, ...others].entries()) await store.put(key, streamOf(pattern(i + 1, i)), i + 1);

        const pages = await listAll(store, `accounts/${a}/`);
        expect(pages.length).toBeGreaterThanOrEqual(3);
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
        const listed = pages.flat();
        expect(listed.map((k) => k.key)).toEqual([...aKeys].sort());
        for (const { key, size } of listed) expect(size).toBe(aKeys.indexOf(key) + 1);

        expect((await listAll(store, `accounts/${b}/`)).flat().map((k) => k.key)).toEqual(others.slice(0, 2));
        expect((await listAll(store, `accounts/${a}/blobs/3`)).flat().map((k) => k.key)).toEqual(
          [`accounts/${a}/blobs/3`, `accounts/${a}/blobs/30`],
        );
        expect(await listAll(store, `accounts/${randomUUID()}/`)).toEqual([[]]);
      });

      it('completes a multipart upload whose parts arrived in reverse order', async () => {
        const key = freshKey();
        const { uploadId } = await store.createMultipart(key);
        const second = await store.uploadPart(key, uploadId, 2, generated(1234, 21), 1234);
        const first = await store.uploadPart(key, uploadId, 1, generated(5 * MiB, 20), 5 * MiB);
        expect(await store.head(key)).toBeNull();
        await store.completeMultipart(key, uploadId, [second, first]);
        const got = await store.get(key);
        expect(got).toMatchObject({ size: 5 * MiB + 1234, totalSize: 5 * MiB + 1234 });
        expect(await digest(got!.body)).toEqual(await digest(concat(generated(5 * MiB, 20), generated(1234, 21))));
      });
    });

    describe('multipart leftovers', () => {
      it('lists unfinished multipart uploads with their start, page by page, until completed or aborted', async () => {
        // Stores with nothing to list (the R2 binding) have no listMultipart.
        if (!store.listMultipart || !listsMultipart) return;
        const started = Date.now();
        const keys = [freshKey(), freshKey(), freshKey()];
        const uploads = await Promise.all(keys.map(async (key) => ({ key, ...(await store.createMultipart(key)) })));
        const part = await store.uploadPart(keys[0]!, uploads[0]!.uploadId, 1, generated(1000, 24), 1000);
        const listed = await listAllMultipart(store);
        for (const upload of uploads) {
          const found = listed.find((u) => u.uploadId === upload.uploadId);
          expect(found).toMatchObject({ key: upload.key });
          // The store's clock, which may be a little off ours.
          expect(Math.abs(found!.startedAt - started)).toBeLessThan(60_000);
        }
        await store.completeMultipart(keys[0]!, uploads[0]!.uploadId, [part]);
        for (const upload of uploads.slice(1)) await store.abortMultipart(upload.key, upload.uploadId);
        const ids = (await listAllMultipart(store)).map((u) => u.uploadId);
        for (const upload of uploads) expect(ids).not.toContain(upload.uploadId);
      });
    });

    describe('errors', () => {
      it('answers null for a missing key', async () => {
        const key = freshKey();
        expect(await store.get(key)).toBeNull();
        expect(await store.get(key, { start: 0, end: 10 })).toBeNull();
        expect(await store.head(key)).toBeNull();
      });

      it('rejects a range that starts past the end', async () => {
        const key = freshKey();
        await store.put(key, streamOf(pattern(10, 9)), 10);
        await expect(store.get(key, { start: 10, end: 20 })).rejects.toThrow(RangeError);
      });

      it('rejects a body shorter than its size and stores nothing', async () => {
        const key = freshKey();
        await expect(store.put(key, streamOf(pattern(999, 10)), 1000)).rejects.toThrow();
        if (!atomicPut) return;
        expect(await store.head(key)).toBeNull();
        expect(await store.get(key)).toBeNull();
      });

      it('rejects a body longer than its size and stores nothing', async () => {
        const key = freshKey();
        await expect(store.put(key, streamOf(pattern(1000, 11), pattern(1, 12)), 1000)).rejects.toThrow();
        if (atomicPut) expect(await store.head(key)).toBeNull();
        await expect(store.put(key, generated(2 * MiB, 13), MiB)).rejects.toThrow();
        if (atomicPut) expect(await store.head(key)).toBeNull();
      });

      it('rejects a body that errors, and keeps the old object whole', async () => {
        const key = freshKey();
        await store.put(key, streamOf(pattern(300, 14)), 300);
        const broken = concat(generated(MiB, 15), failing(new Error('client went away')));
        await expect(store.put(key, broken, 2 * MiB)).rejects.toThrow('client went away');
        await expect(store.put(key, streamOf(pattern(301, 16)), 300)).rejects.toThrow();
        if (atomicPut) expectBytes(await readAll((await store.get(key))!.body), pattern(300, 14));
      });

      it('rejects a short multipart part', async () => {
        const key = freshKey();
        const { uploadId } = await store.createMultipart(key);
        await expect(store.uploadPart(key, uploadId, 1, streamOf(pattern(10, 17)), 11)).rejects.toThrow();
        await store.abortMultipart(key, uploadId).catch(() => {});
      });

      it.runIf(validatesParts)('refuses to complete with a part that was never uploaded', async () => {
        const key = freshKey();
        const { uploadId } = await store.createMultipart(key);
        const first = await store.uploadPart(key, uploadId, 1, generated(5 * MiB, 22), 5 * MiB);
        await expect(store.completeMultipart(key, uploadId, [first, { partNumber: 2, etag: first.etag }])).rejects.toThrow();
        expect(await store.head(key)).toBeNull();
        await store.abortMultipart(key, uploadId).catch(() => {});
      });

      it.runIf(capabilities.abortMultipart)('aborts a multipart upload, after which it cannot complete', async () => {
        const key = freshKey();
        const { uploadId } = await store.createMultipart(key);
        const part = await store.uploadPart(key, uploadId, 1, generated(1000, 23), 1000);
        await store.abortMultipart(key, uploadId);
        await expect(store.completeMultipart(key, uploadId, [part])).rejects.toThrow();
        expect(await store.head(key)).toBeNull();
        await store.abortMultipart(key, uploadId);
      });
    });

    describe('presign', () => {
      it.runIf(!capabilities.presign)('offers no presigning', () => {
        expect(store.presign).toBeUndefined();
      });

      it.runIf(capabilities.presign)('stores and reads an object through presigned URLs and plain fetch', async () => {
        const key = freshKey();
        const bytes = pattern(2048, 30);
        const put = await store.presign!.put(key, bytes.length, 60);
        expect(put.method).toBe('PUT');
        expect(put.expiresAt).toBeGreaterThan(Date.now());
        const putRes = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes });
        expect(putRes.status, await putRes.clone().text()).toBe(200);
        expect(await store.head(key)).toMatchObject({ size: bytes.length });

        const get = await store.presign!.get(key, 60);
        const getRes = await fetch(get.url, { headers: get.headers });
        expect(getRes.status).toBe(200);
        expectBytes(new Uint8Array(await getRes.arrayBuffer()), bytes);
      });

      it.runIf(capabilities.presign && capabilities.checksSignatures)('refuses a tampered URL and a different size', async () => {
        const key = freshKey();
        const put = await store.presign!.put(key, 100, 60);
        const tampered = tamperSignature(put.url);
        expect((await fetch(tampered, { method: 'PUT', headers: put.headers, body: pattern(100, 31) })).status).toBe(403);
        const { 'content-length': _, ...otherHeaders } = put.headers;
        expect((await fetch(put.url, { method: 'PUT', headers: otherHeaders, body: pattern(101, 32) })).status).toBe(403);
        expect(await store.head(key)).toBeNull();

        await store.put(key, streamOf(pattern(5, 33)), 5);
        const get = await store.presign!.get(key, 60);
        expect((await fetch(tamperSignature(get.url))).status).toBe(403);
        expect((await fetch(get.url)).status).toBe(200);
      });
    });
  });
}

/** Compares by length and hash, so a mismatch of megabytes prints two lines, not a million. */
function expectBytes(actual: Uint8Array, expected: Uint8Array) {
  const summary = (b: Uint8Array) => ({ length: b.length, sha256: createHash('sha256').update(b).digest('hex') });
  expect(summary(actual)).toEqual(summary(expected));
}

async function listAll(store: BlobStore, prefix: string) {
  const pages: { key: string; size: number }[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, cursor);
    pages.push(page.keys);
    cursor = page.cursor;
    if (pages.length > 50) throw new Error('list never ended');
  } while (cursor);
  return pages;
}

function tamperSignature(url: string) {
  const u = new URL(url);
  const signature = u.searchParams.get('X-Amz-Signature');
  if (!signature) throw new Error(`no X-Amz-Signature in ${url}`);
  const last = signature.at(-1) === '0' ? '1' : '0';
  u.searchParams.set('X-Amz-Signature', signature.slice(0, -1) + last);
  return u.toString();
}

/** Deterministic bytes: the same (length, seed) always gives the same array. */
export function pattern(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/**
 * size deterministic bytes made 64 KiB at a time on demand, so a large body never sits in
 * memory. delayMs waits before each chunk; onChunk sees the running total.
 */
export function generated(
  size: number,
  seed: number,
  options: { delayMs?: number; onChunk?: (sent: number) => void } = {},
): ReadableStream<Uint8Array> {
  const chunkSize = 64 * 1024;
  let sent = 0;
  let index = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent >= size) return controller.close();
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const chunk = pattern(Math.min(chunkSize, size - sent), seed * 100_003 + index++);
      sent += chunk.length;
      controller.enqueue(chunk);
      options.onChunk?.(sent);
    },
  });
}

export function concat(...streams: ReadableStream<Uint8Array>[]): ReadableStream<Uint8Array> {
  let current = 0;
  let reader = streams[0]?.getReader();
  return new ReadableStream({
    async pull(controller) {
      while (reader) {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        reader = streams[++current]?.getReader();
      }
      controller.close();
    },
  });
}

export function failing(error: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull: (controller) => controller.error(error) });
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

