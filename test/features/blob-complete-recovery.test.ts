import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobKey } from '../../src/adapters/blob-store.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { s3rverConfig, startS3rver } from '../adapters/s3-servers.js';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';
import {
  blobRows,
  downloaded,
  MiB,
  putAllParts,
  putPart,
  startUpload,
  uploadRows,
  withInjectedFault,
} from './blob-upload-helpers.js';
import { newAccount } from './sync-helpers.js';

// Completing a resumable upload must be safe to repeat: whatever stops it part-way (a store
// error, a crash), the parts stay until the blob commits, and the same request finishes the job.

const bytes = randomBytes(5 * MiB + 1234);

/** A stream that yields the first chunk of body, then fails as a connection reset would. */
function resetAfterFirstChunk(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let sent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await reader.cancel();
        return controller.error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      }
      const { done, value } = await reader.read();
      sent = true;
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
}

describe('complete on s3rver, when the store fails while the joined object is read back', () => {
  let t: TestApp;
  let s3rver: Awaited<ReturnType<typeof startS3rver>>;
  let faults: ReturnType<typeof withInjectedFault>;
  beforeEach(async () => {
    s3rver = await startS3rver();
    const config = s3rverConfig(s3rver.port);
    await ensureBucket(config);
    faults = withInjectedFault(createS3BlobStore(config));
    t = createTestApp({}, { blobs: faults.store });
  });
  afterEach(async () => {
    t.close();
    await s3rver.stop();
  });

  it('answers 503 with Retry-After and keeps the parts; the same complete then commits the blob intact', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    await putAllParts(t, a, upload);
    const real = t.deps.blobs;
    faults.failNext('get', async (key, range) => {
      const stored = (await real.get(key, range))!;
      return { ...stored, body: resetAfterFirstChunk(stored.body) };
    });

    const failed = await expectError(a.call('POST', `/v1/uploads/${upload.uploadId}/complete`), 503, 'service_unavailable');
    expect(Number(failed.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(blobRows(t, a.accountId)).toMatchObject({ pending: 1, bytesUsed: 0 });
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).body).toMatchObject({ state: 'open', parts: [{ partNumber: 1 }, { partNumber: 2 }] });

    const retried = await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`);
    expect(retried).toMatchObject({ status: 201, body: { blobId: upload.blobId, size: bytes.length } });
    expect((await downloaded(a, upload.blobId)).bytes.equals(bytes)).toBe(true);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
    expect(t.logLines.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
  });
});

describe('complete on the fs store', () => {
  let t: TestApp;
  beforeEach(() => {
    t = createTestApp();
  });
  afterEach(() => t.close());

  it('SIGKILL after the store joined the parts, before the commit: the retried complete commits the blob', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    await putAllParts(t, a, upload);
    // What the killed server got done: the store joined the parts (and forgot the upload); the
    // database still says pending.
    const { upload: row, parts } = uploadRows(t, a.accountId, upload.uploadId);
    await t.deps.blobs.completeMultipart(blobKey(a.accountId, upload.blobId), row!.storeUploadId, parts);

    const retried = await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`);
    expect(retried).toMatchObject({ status: 201, body: { blobId: upload.blobId, size: bytes.length } });
    expect((await downloaded(a, upload.blobId)).bytes.equals(bytes)).toBe(true);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
  });

  it('a complete repeated after success (its answer was lost) answers the same blob; no part is taken after it', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    await putAllParts(t, a, upload);
    const first = await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`);
    expect(first.status).toBe(201);

    expect(await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`)).toEqual(first);
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).body).toMatchObject({ state: 'completed', parts: [] });
    await expectError(putPart(t, a, upload.uploadId, 1, upload.parts[0]!), 409, 'conflict');
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
  });

  it('two completes racing both answer the same blob, and the quota counts it once', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    await putAllParts(t, a, upload);
    const both = await Promise.all([1, 2].map(() => a.json('POST', `/v1/uploads/${upload.uploadId}/complete`)));
    expect(both.map((r) => r.status)).toEqual([201, 201]);
    expect(both[0]!.body).toEqual(both[1]!.body);
    expect(blobRows(t, a.accountId)).toEqual({ committed: 1, bytesUsed: bytes.length });
    expect((await downloaded(a, upload.blobId)).bytes.equals(bytes)).toBe(true);
  });

  it('deleting a completed upload leaves its blob alone', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    await putAllParts(t, a, upload);
    expect((await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`)).status).toBe(201);
    expect((await a.call('DELETE', `/v1/uploads/${upload.uploadId}`)).status).toBe(204);
    expect((await downloaded(a, upload.blobId)).status).toBe(200);
    await expectError(a.call('GET', `/v1/uploads/${upload.uploadId}`), 404, 'not_found');
  });
});

describe('GET /v1/uploads/{uploadId}: which parts arrived', () => {
  let t: TestApp;
  beforeEach(() => {
    t = createTestApp();
  });
  afterEach(() => t.close());

  it('lists the parts the server stored, with their sizes and tags', async () => {
    const a = await newAccount(t);
    const upload = await startUpload(a, bytes);
    expect((await putPart(t, a, upload.uploadId, 2, upload.parts[1]!)).status).toBe(200);
    const { status, body } = await a.json('GET', `/v1/uploads/${upload.uploadId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ uploadId: upload.uploadId, blobId: upload.blobId, size: bytes.length, partCount: 2, state: 'open' });
    expect(body.parts).toEqual([{ partNumber: 2, size: 1234, etag: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
  });

  it("another account, or a session on another account's phone, gets the 404 an unknown id gets; a device token 401", async () => {
    const a = await newAccount(t);
    const b = await newAccount(t);
    const upload = await startUpload(a, bytes);
    const phone = await b.json('POST', '/v1/devices', {
      name: 'Phone',
      model: 'Pixel 9',
      platform: 'android',
      identifierHash: toBase64Url(new Uint8Array(32).fill(7)),
    });
    expect(phone.status).toBe(201);

    // B's session registered the phone, so it is now a session on B's phone.
    const unknown = await expectError(b.call('GET', '/v1/uploads/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    const asOther = await expectError(b.call('GET', `/v1/uploads/${upload.uploadId}`), 404, 'not_found');
    expect(asOther.message).toBe(unknown.message);
    const byDeviceToken = t.request('GET', `/v1/uploads/${upload.uploadId}`, { headers: { Authorization: `Bearer ${phone.body.token}` } });
    await expectError(byDeviceToken, 401, 'unauthorized');
    expect((await a.json('GET', `/v1/uploads/${upload.uploadId}`)).status).toBe(200);
  });
});
