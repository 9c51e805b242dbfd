import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BlobStore, blobKey } from '../../src/adapters/blob-store.js';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { runMaintenance } from '../../src/jobs.js';
import { emptyAndDeleteBucket, swiftConfig } from '../adapters/s3-servers.js';
import { createTestApp, type TestApp } from '../harness.js';
import { dropUploadRows, HOUR, MiB, putAllParts, putPart, startUpload, tempFilesUnder } from './blob-upload-helpers.js';
import { newAccount } from './sync-helpers.js';

// What crashes leave in the store that no row points to: temp files of writes cut short, and
// multipart uploads the database never recorded. Garbage collection walks rows, so only a sweep
// of the store finds them; it must spare anything a request still running may be using.

const bytes = randomBytes(5 * MiB + 10);

/** Sets a file's (or folder's) times as if it was last written at `ms`. */
const writtenAt = (path: string, ms: number) => utimesSync(path, ms / 1000, ms / 1000);

describe('maintenance sweeps what crashes left in the fs store', () => {
  let t: TestApp;
  beforeEach(() => {
    t = createTestApp();
  });
  afterEach(() => t.close());

  it('removes old temp files and unrecorded multipart folders; a live upload and a write in progress survive', async () => {
    const a = await newAccount(t);
    const blobsDir = join(t.dir, 'blobs');
    const longAgo = t.clock.now() - 25 * HOUR;
    const stored = await (await a.uploadBlob(randomBytes(100))).json();

    // A put and a part cut short by a crash, each leaving its temp file.
    const accountDir = join(blobsDir, 'accounts', a.accountId, 'blobs');
    const deadPut = join(accountDir, '.tmp-0123456789abcdef');
    writeFileSync(deadPut, randomBytes(1000));
    writtenAt(deadPut, longAgo);
    // An upload the store started but the database never recorded (the crash came in between).
    const unrecorded = await startUpload(a, bytes);
    await putPart(t, a, unrecorded.uploadId, 2, unrecorded.parts[1]!);
    const unrecordedDir = readdirSync(join(blobsDir, '.multipart'))[0]!;
    dropUploadRows(t, a.accountId, unrecorded.uploadId);
    const deadPart = join(blobsDir, '.multipart', unrecordedDir, '.tmp-fedcba9876543210');
    writeFileSync(deadPart, randomBytes(1000));
    for (const name of ['key', '2', '.tmp-fedcba9876543210']) writtenAt(join(blobsDir, '.multipart', unrecordedDir, name), longAgo);
    // A folder whose key file was never written: an upload that crashed while starting.
    const keyless = join(blobsDir, '.multipart', 'f'.repeat(32));
    mkdirSync(keyless);
    writtenAt(keyless, longAgo);

    // Still in use: an upload whose store folder is as old (its row says it has an hour left),
    // and a temp file written a minute ago (a put in progress).
    t.clock.advance(-23 * HOUR);
    const live = await startUpload(a, bytes);
    t.clock.advance(23 * HOUR);
    await putPart(t, a, live.uploadId, 1, live.parts[0]!);
    const liveDir = readdirSync(join(blobsDir, '.multipart')).find((d) => d !== unrecordedDir && d !== 'f'.repeat(32))!;
    writtenAt(join(blobsDir, '.multipart', liveDir, 'key'), longAgo);
    const inProgress = join(accountDir, '.tmp-00000000000000aa');
    writeFileSync(inProgress, randomBytes(10));
    writtenAt(inProgress, t.clock.now() - 60_000);

    await runMaintenance(t.deps);

    expect(tempFilesUnder(blobsDir)).toEqual([inProgress]);
    expect(existsSync(join(blobsDir, '.multipart', unrecordedDir))).toBe(false);
    expect(existsSync(keyless)).toBe(false);
    expect(existsSync(join(blobsDir, '.multipart', liveDir))).toBe(true);
    expect((await a.call('GET', `/v1/blobs/${stored.blobId}`)).status).toBe(200);
    await putPart(t, a, live.uploadId, 2, live.parts[1]!);
    expect((await a.json('POST', `/v1/uploads/${live.uploadId}/complete`)).status).toBe(201);
  });
});

describe.skipIf(!process.env.S3_TEST_ENDPOINT)('maintenance aborts multipart uploads no row knows, on Swift (S3_TEST_ENDPOINT)', () => {
  const config = swiftConfig();
  let store: BlobStore;
  let t: TestApp;
  beforeAll(async () => {
    await ensureBucket(config);
    store = createS3BlobStore(config);
    t = createTestApp({}, { blobs: store });
  });
  afterAll(async () => {
    t.close();
    await emptyAndDeleteBucket(store, config);
  });

  it('aborts an unrecorded upload older than the expiry, and keeps a recorded one', async () => {
    // The bucket stamps uploads with its own clock; bring the app's clock to it.
    t.clock.set(Date.now());
    const a = await newAccount(t);
    const unrecorded = await startUpload(a, bytes);
    await putAllParts(t, a, unrecorded);
    dropUploadRows(t, a.accountId, unrecorded.uploadId);
    const live = await startUpload(a, bytes);
    const listed = async () => (await store.listMultipart!()).uploads.map((u) => u.key);
    expect(await listed()).toEqual(expect.arrayContaining([blobKey(a.accountId, unrecorded.blobId), blobKey(a.accountId, live.blobId)]));

    await runMaintenance(t.deps);
    expect(await listed()).toContain(blobKey(a.accountId, unrecorded.blobId));

    t.clock.advance(25 * HOUR);
    // The live upload's row has expired by now too, so it is ended by its row, not swept.
    await runMaintenance(t.deps);
    expect(await listed()).not.toContain(blobKey(a.accountId, unrecorded.blobId));
    expect(await listed()).not.toContain(blobKey(a.accountId, live.blobId));
  });
});
