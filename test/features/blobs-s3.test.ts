import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { emptyAndDeleteBucket, s3rverConfig, startS3rver, swiftConfig } from '../adapters/s3-servers.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { newAccount, sha256Hex } from './sync-helpers.js';

// The blob API over real S3 servers: s3rver always, Swift (which checks signatures) when CI runs it.

const committedBlobs = (t: TestApp) =>
  (t.deps.db as unknown as { $client: import('better-sqlite3').Database }).$client
    .prepare("SELECT count(*) AS n FROM blobs WHERE state = 'committed'")
    .get() as { n: number };

describe('blob API on s3rver', () => {
  let t: TestApp;
  let s3rver: Awaited<ReturnType<typeof startS3rver>>;
  beforeEach(async () => {
    s3rver = await startS3rver();
    const config = s3rverConfig(s3rver.port);
    await ensureBucket(config);
    t = createTestApp({}, { blobs: createS3BlobStore(config) });
  });
  afterEach(async () => {
    t.close();
    await s3rver.stop();
  });

  it('answers 503, commits nothing, and counts no quota when S3 dies mid-upload', async () => {
    const a = await newAccount(t);
    const size = 16 * 1024 * 1024;
    const chunk = randomBytes(64 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 4 * 1024 * 1024) s3rver.child.kill('SIGKILL');
        if (sent >= size) return controller.close();
        await new Promise((r) => setTimeout(r, 2));
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const res = await t.app.request(`${TEST_ORIGIN}/v1/blobs`, {
      method: 'POST',
      headers: { ...a.auth, 'Content-Length': String(size), 'X-Homing-SHA256': sha256Hex(new Uint8Array(1)) },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(503);
    const { error } = await res.json();
    expect(error.code).toBe('service_unavailable');
    expect(error.message).toContain('nothing was saved');
    expect(res.headers.get('Retry-After')).toBeTruthy();
    expect(committedBlobs(t).n).toBe(0);
    expect((await a.json('GET', '/v1/sync/changes')).body.items).toEqual([]);
  });

  it('streams uploads and ranged downloads through to the bucket', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    const { blobId } = await (await a.uploadBlob(bytes)).json();
    const range = await t.request('GET', `/v1/blobs/${blobId}`, { headers: { ...a.auth, Range: 'bytes=5-104' } });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(5, 105))).toBe(true);
    expect(await t.deps.blobs.head(`accounts/${a.accountId}/blobs/${blobId}`)).toMatchObject({ size: bytes.length });
  });
});

describe.skipIf(!process.env.S3_TEST_ENDPOINT)('blob API on Swift (S3_TEST_ENDPOINT)', () => {
  let t: TestApp;
  let store: BlobStore;
  const config = swiftConfig();
  beforeAll(async () => {
    await ensureBucket(config);
    store = createS3BlobStore(config);
    t = createTestApp({}, { blobs: store });
  });
  afterAll(async () => {
    t.close();
    await emptyAndDeleteBucket(store, config);
  });

  it('uploads straight to the bucket with a presigned PUT, checks it on commit, and presigns the download', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(50_000);
    const { body } = await a.json('POST', '/v1/blobs/presign', { size: bytes.length, sha256: sha256Hex(bytes) });
    expect(body.request.method).toBe('PUT');
    const put = await fetch(body.request.url, { method: 'PUT', headers: body.request.headers, body: bytes });
    expect(put.status).toBe(200);

    const committed = await a.json('POST', `/v1/blobs/${body.blobId}/commit`);
    expect(committed).toMatchObject({ status: 200, body: { blobId: body.blobId, size: bytes.length } });
    const { body: url } = await a.json('GET', `/v1/blobs/${body.blobId}/url`);
    const got = await fetch(url.request.url, { headers: url.request.headers });
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses to commit a presigned upload whose bytes differ from what was declared', async () => {
    const a = await newAccount(t);
    const declared = randomBytes(1000);
    const { body } = await a.json('POST', '/v1/blobs/presign', { size: declared.length, sha256: sha256Hex(declared) });
    await fetch(body.request.url, { method: 'PUT', headers: body.request.headers, body: randomBytes(1000) });
    const committed = await a.json('POST', `/v1/blobs/${body.blobId}/commit`);
    expect(committed).toMatchObject({ status: 422, body: { error: { code: 'integrity_mismatch' } } });
    expect((await a.call('GET', `/v1/blobs/${body.blobId}`)).status).toBe(404);
    expect(await store.head(`accounts/${a.accountId}/blobs/${body.blobId}`)).toBeNull();
  });

  it('a presigned PUT cannot store a different size than the one signed', async () => {
    const a = await newAccount(t);
    const { body } = await a.json('POST', '/v1/blobs/presign', { size: 1000, sha256: sha256Hex(randomBytes(1000)) });
    const put = await fetch(body.request.url, { method: 'PUT', body: randomBytes(2000) });
    expect(put.status).toBe(403);
  });
});
