import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { newAccount, sha256Hex } from './sync-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const MiB = 1024 * 1024;
const HOUR = 3_600_000;

/** Parts of unfinished uploads, which the fs store keeps in a hidden folder of its own. */
const multipartLeftovers = (t: TestApp) => {
  const dir = join(t.dir, 'blobs', '.multipart');
  return existsSync(dir) ? readdirSync(dir) : [];
};

const storedKeys = async (t: TestApp, accountId: string) =>
  (await t.deps.blobs.list(`accounts/${accountId}/`)).keys.map((k) => k.key);

describe('streamed upload and download', () => {
  it('stores a blob whole, then serves it whole and by range', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(100_000);
    const res = await a.uploadBlob(bytes);
    expect(res.status).toBe(201);
    const blob = await res.json();
    expect(blob).toEqual({ blobId: expect.any(String), size: 100_000, sha256: sha256Hex(bytes) });

    const whole = await a.call('GET', `/v1/blobs/${blob.blobId}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('Accept-Ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const range = await t.request('GET', `/v1/blobs/${blob.blobId}`, { headers: { ...a.auth, Range: 'bytes=1000-1999' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('Content-Range')).toBe('bytes 1000-1999/100000');
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);

    const suffix = await t.request('GET', `/v1/blobs/${blob.blobId}`, { headers: { ...a.auth, Range: 'bytes=-10' } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);
    const beyond = await t.request('GET', `/v1/blobs/${blob.blobId}`, { headers: { ...a.auth, Range: 'bytes=100000-' } });
    expect(beyond.status).toBe(416);
    expect((await beyond.json()).error.code).toBe('range_not_satisfiable');
  });

  it('stores an empty blob', async () => {
    const a = await newAccount(t);
    const res = await a.uploadBlob(new Uint8Array(0));
    expect(res.status).toBe(201);
    const { blobId } = await res.json();
    expect((await (await a.call('GET', `/v1/blobs/${blobId}`)).arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses a body whose SHA-256 differs, storing nothing', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(5000);
    const res = await a.uploadBlob(bytes, sha256Hex(randomBytes(10)));
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('integrity_mismatch');
    expect(await storedKeys(t, a.accountId)).toEqual([]);
    expect((await a.json('GET', '/v1/sync/changes')).body.items).toEqual([]);
  });

  it('refuses a body shorter or longer than its Content-Length, storing nothing', async () => {
    const a = await newAccount(t);
    const bytes = randomBytes(5000);
    const send = (declared: number) =>
      t.app.request(`${TEST_ORIGIN}/v1/blobs`, {
        method: 'POST',
        headers: { ...a.auth, 'Content-Length': String(declared), 'X-Homing-SHA256': sha256Hex(bytes) },
        body: new ReadableStream({ start: (c) => (c.enqueue(bytes), c.close()) }),
        duplex: 'half',
      } as RequestInit);
    for (const declared of [6000, 4000]) {
      const res = await send(declared);
      expect(res.status).toBe(422);
      expect((await res.json()).error.code).toBe('integrity_mismatch');
    }
    expect(await storedKeys(t, a.accountId)).toEqual([]);
  });

  it('requires Content-Length and a well-formed SHA-256', async () => {
    const a = await newAccount(t);
    const noLength = await t.app.request(`${TEST_ORIGIN}/v1/blobs`, {
      method: 'POST',
      headers: { ...a.auth, 'X-Homing-SHA256': sha256Hex(new Uint8Array(1)) },
      body: new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(1)), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(noLength.status).toBe(411);
    const badHash = await a.uploadBlob(new Uint8Array(1), 'not-a-hash');
    expect(badHash.status).toBe(400);
    expect((await badHash.json()).error.message).toContain('x-homing-sha256');
  });
});

describe('limits counted by the server', () => {
  it('refuses a blob over the size limit before reading it', async () => {
    t.close();
    t = createTestApp({ MAX_BLOB_BYTES: '2048' });
    const a = await newAccount(t);
    const res = await a.uploadBlob(randomBytes(4096));
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('blob_too_large');
  });

  it('enforces the account quota and frees it when an item and its blob are deleted', async () => {
    t.close();
    t = createTestApp({ ACCOUNT_QUOTA_BYTES: '5000' });
    const a = await newAccount(t);
    const collectionId = await a.createCollection('photos');
    const first = await (await a.uploadBlob(randomBytes(3000))).json();
    const item = a.create(collectionId, { blobId: first.blobId });
    await a.json('POST', '/v1/sync/changes', { changes: [item] });

    const over = await a.uploadBlob(randomBytes(3000));
    expect(over.status).toBe(507);
    expect((await over.json()).error).toMatchObject({ code: 'quota_exceeded', details: { bytesUsed: 3000, quota: 5000 } });

    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'delete', itemId: item.itemId, baseVersion: 1 }] });
    expect(await storedKeys(t, a.accountId)).toEqual([]);
    expect((await a.uploadBlob(randomBytes(3000))).status).toBe(201);
  });

  it('deletes the old blob when an update replaces it', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection('photos');
    const old = await (await a.uploadBlob(randomBytes(100))).json();
    const replacement = await (await a.uploadBlob(randomBytes(200))).json();
    const item = a.create(collectionId, { blobId: old.blobId });
    await a.json('POST', '/v1/sync/changes', { changes: [item] });
    const updated = await a.json('POST', '/v1/sync/changes', {
      changes: [{ op: 'update', itemId: item.itemId, baseVersion: 1, encryptedMetadata: 'eA', blobId: replacement.blobId }],
    });
    expect(updated.body.items[0].blob).toMatchObject({ id: replacement.blobId, size: 200 });
    expect((await a.call('GET', `/v1/blobs/${old.blobId}`)).status).toBe(404);
    expect(await storedKeys(t, a.accountId)).toEqual([`accounts/${a.accountId}/blobs/${replacement.blobId}`]);
  });
});

describe('resumable uploads', () => {
  const bytes = randomBytes(5 * MiB + 1234);
  const putPart = (a: Awaited<ReturnType<typeof newAccount>>, uploadId: string, n: number, part: Uint8Array) =>
    t.app.request(`${TEST_ORIGIN}/v1/uploads/${uploadId}/parts/${n}`, {
      method: 'PUT',
      headers: { ...a.auth, 'Content-Length': String(part.length) },
      body: part as Uint8Array<ArrayBuffer>,
    });

  it('takes parts in any order, checks the whole, and commits the blob', async () => {
    const a = await newAccount(t);
    const started = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(bytes), partSize: 5 * MiB });
    expect(started.body).toMatchObject({ partSize: 5 * MiB, partCount: 2 });
    const { uploadId } = started.body;

    const early = await a.json('POST', `/v1/uploads/${uploadId}/complete`);
    expect(early.body.error.details.missingParts).toEqual([1, 2]);
    expect((await putPart(a, uploadId, 2, bytes.subarray(5 * MiB))).status).toBe(200);
    const wrongSize = await putPart(a, uploadId, 1, bytes.subarray(0, 100));
    expect(wrongSize.status).toBe(422);
    expect((await putPart(a, uploadId, 1, bytes.subarray(0, 5 * MiB))).status).toBe(200);

    const done = await a.json('POST', `/v1/uploads/${uploadId}/complete`);
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ blobId: started.body.blobId, size: bytes.length, sha256: sha256Hex(bytes) });
    const back = Buffer.from(await (await a.call('GET', `/v1/blobs/${done.body.blobId}`)).arrayBuffer());
    expect(back.equals(bytes)).toBe(true);
  });

  it('refuses to commit parts that do not add up to the declared SHA-256', async () => {
    const a = await newAccount(t);
    const { body } = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(randomBytes(8)), partSize: 5 * MiB });
    await putPart(a, body.uploadId, 1, bytes.subarray(0, 5 * MiB));
    await putPart(a, body.uploadId, 2, bytes.subarray(5 * MiB));
    const done = await a.json('POST', `/v1/uploads/${body.uploadId}/complete`);
    expect(done).toMatchObject({ status: 422, body: { error: { code: 'integrity_mismatch' } } });
    expect((await a.call('GET', `/v1/blobs/${body.blobId}`)).status).toBe(404);
    expect(await storedKeys(t, a.accountId)).toEqual([]);
  });

  it('cannot be committed through the presigned-upload route, and still completes after such a try', async () => {
    const a = await newAccount(t);
    const { body } = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(bytes), partSize: 5 * MiB });
    expect((await a.json('POST', `/v1/blobs/${body.blobId}/commit`)).status).toBe(404);
    await putPart(a, body.uploadId, 1, bytes.subarray(0, 5 * MiB));
    await putPart(a, body.uploadId, 2, bytes.subarray(5 * MiB));
    expect((await a.json('POST', `/v1/uploads/${body.uploadId}/complete`)).status).toBe(201);
  });

  it('aborts: the upload and its parts are gone', async () => {
    const a = await newAccount(t);
    const { body } = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(bytes) });
    await putPart(a, body.uploadId, 1, bytes.subarray(0, body.partSize));
    expect((await a.call('DELETE', `/v1/uploads/${body.uploadId}`)).status).toBe(204);
    expect((await putPart(a, body.uploadId, 2, bytes.subarray(body.partSize))).status).toBe(404);
    expect((await a.json('POST', `/v1/uploads/${body.uploadId}/complete`)).status).toBe(404);
    expect(multipartLeftovers(t)).toEqual([]);
  });

  it('expires abandoned uploads and never-attached blobs, but keeps attached ones', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection('files');
    const { body: upload } = await a.json('POST', '/v1/uploads', { size: bytes.length, sha256: sha256Hex(bytes) });
    await putPart(a, upload.uploadId, 1, bytes.subarray(0, upload.partSize));
    const orphan = await (await a.uploadBlob(randomBytes(64))).json();
    const kept = await (await a.uploadBlob(randomBytes(64))).json();
    await a.json('POST', '/v1/sync/changes', { changes: [a.create(collectionId, { blobId: kept.blobId })] });

    t.clock.advance(23 * HOUR);
    await runMaintenance(t.deps);
    expect((await a.call('GET', `/v1/blobs/${orphan.blobId}`)).status).toBe(200);

    t.clock.advance(2 * HOUR);
    await runMaintenance(t.deps);
    expect((await a.json('POST', `/v1/uploads/${upload.uploadId}/complete`)).status).toBe(404);
    expect((await a.call('GET', `/v1/blobs/${orphan.blobId}`)).status).toBe(404);
    expect((await a.call('GET', `/v1/blobs/${kept.blobId}`)).status).toBe(200);
    expect(await storedKeys(t, a.accountId)).toEqual([`accounts/${a.accountId}/blobs/${kept.blobId}`]);
    expect(multipartLeftovers(t)).toEqual([]);
  });
});

describe('direct-to-bucket transfer', () => {
  it('is refused clearly when the store cannot presign', async () => {
    const a = await newAccount(t);
    const res = await a.json('POST', '/v1/blobs/presign', { size: 10, sha256: sha256Hex(new Uint8Array(10)) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('POST /v1/blobs');
  });
});
