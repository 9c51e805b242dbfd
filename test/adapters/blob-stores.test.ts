import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStore, BlobStoreUnavailableError, blobKey } from '../../src/adapters/blob-store.js';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { createS3BlobStore, ensureBucket, type S3BlobStoreConfig } from '../../src/adapters/blob-store-s3.js';
import { describeBlobStoreContract, generated, MiB, pattern, streamOf } from './blob-store-contract.js';
import { emptyAndDeleteBucket, s3rverConfig, startS3rver, swiftConfig, tempDir } from './s3-servers.js';

describeBlobStoreContract(
  'fs',
  async () => {
    const root = await tempDir();
    return { store: createFsBlobStore(root, { listPageSize: 2 }), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  { abortMultipart: true, presign: false, checksSignatures: false },
);

describeBlobStoreContract(
  's3rver',
  async () => {
    const s3rver = await startS3rver();
    const config = s3rverConfig(s3rver.port);
    await ensureBucket(config);
    return { store: createS3BlobStore({ ...config, listPageSize: 2 }), cleanup: s3rver.stop };
  },
  // s3rver never checks signatures and has no AbortMultipartUpload; see the flags' comments.
  {
    abortMultipart: false,
    presign: true,
    checksSignatures: false,
    atomicPut: false,
    listsInByteOrder: false,
    validatesParts: false,
    listsMultipart: false,
  },
);

const swift = process.env.S3_TEST_ENDPOINT;

describe.skipIf(!swift)('Swift S3 API (S3_TEST_ENDPOINT)', () => {
  describeBlobStoreContract(
    'swift',
    async () => {
      const config = swiftConfig();
      await ensureBucket(config);
      const store = createS3BlobStore({ ...config, listPageSize: 2 });
      return { store, cleanup: () => emptyAndDeleteBucket(store, config) };
    },
    { abortMultipart: true, presign: true, checksSignatures: true },
  );
});

describe('fs store', () => {
  let root: string;
  let store: BlobStore;
  beforeAll(async () => {
    root = await tempDir();
    store = createFsBlobStore(root);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('refuses keys that could leave its folder or name its own files', async () => {
    const bad = ['', '/etc/passwd', 'accounts/../x', '..', 'a\\b', 'a\0b', 'a//b', 'a/', '/a', '.multipart/x', 'a/.tmp-1'];
    for (const key of bad) {
      await expect(store.put(key, streamOf(pattern(1, 1)), 1), JSON.stringify(key)).rejects.toThrow(/invalid blob key/);
      await expect(store.get(key), JSON.stringify(key)).rejects.toThrow(/invalid blob key/);
      await expect(store.delete([key]), JSON.stringify(key)).rejects.toThrow(/invalid blob key/);
      await expect(store.createMultipart(key), JSON.stringify(key)).rejects.toThrow(/invalid blob key/);
    }
    expect(await readdir(root)).toEqual([]);
  });

  it('leaves no temp file behind when a put fails', async () => {
    const key = blobKey('acct', 'x');
    await store.put(key, streamOf(pattern(10, 1)), 10);
    await expect(store.put(key, streamOf(pattern(11, 2)), 10)).rejects.toThrow();
    await expect(store.put(key, streamOf(pattern(9, 3)), 10)).rejects.toThrow();
    expect(await readdir(join(root, 'accounts/acct/blobs'))).toEqual(['x']);
  });

  it('refuses to complete when a part does not match its etag', async () => {
    const key = blobKey('acct', 'multi');
    const { uploadId } = await store.createMultipart(key);
    const part = await store.uploadPart(key, uploadId, 1, streamOf(pattern(10, 4)), 10);
    await expect(store.completeMultipart(key, uploadId, [{ ...part, etag: '0'.repeat(32) }])).rejects.toThrow(/etag/);
    await expect(store.uploadPart(blobKey('other', 'multi'), uploadId, 2, streamOf(), 0)).rejects.toThrow();
    await expect(store.uploadPart(key, '../../x', 2, streamOf(), 0)).rejects.toThrow();
    expect(await store.head(key)).toBeNull();
    await store.completeMultipart(key, uploadId, [part]);
    expect(await store.head(key)).toMatchObject({ size: 10 });
    expect(await readdir(join(root, '.multipart'))).toEqual([]);
  });
});

describe('S3 store failures', () => {
  const closed: S3BlobStoreConfig = { ...s3rverConfig(1), secretAccessKey: 'do-not-leak-this-secret' };

  it('reports a store on a closed port as unavailable, quickly, without credentials', async () => {
    const store = createS3BlobStore(closed);
    const started = Date.now();
    const attempts = [
      () => store.head('accounts/a/blobs/b'),
      () => store.get('accounts/a/blobs/b'),
      () => store.put('accounts/a/blobs/b', streamOf(pattern(10, 1)), 10),
      () => store.list('accounts/a/'),
      () => store.delete(['accounts/a/blobs/b']),
      () => store.createMultipart('accounts/a/blobs/b'),
      () => ensureBucket(closed),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(() => null, (e: unknown) => e);
      expect(error, String(attempt)).toBeInstanceOf(BlobStoreUnavailableError);
      expect((error as Error).message).toContain('http://127.0.0.1:1');
      expect((error as Error).message).not.toContain('do-not-leak-this-secret');
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails a put with BlobStoreUnavailableError when the store dies mid-upload', async () => {
    const s3rver = await startS3rver();
    try {
      const config = s3rverConfig(s3rver.port);
      await ensureBucket(config);
      const store = createS3BlobStore(config);
      let killedAt = 0;
      const body = generated(20 * MiB, 40, {
        delayMs: 2,
        onChunk: (sent) => {
          if (sent >= 2 * MiB && !killedAt) {
            killedAt = Date.now();
            s3rver.child.kill('SIGKILL');
          }
        },
      });
      const error = await store.put(blobKey('acct', 'big'), body, 20 * MiB).then(() => null, (e: unknown) => e);
      expect(killedAt).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(BlobStoreUnavailableError);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
    } finally {
      await s3rver.stop();
    }
  });
});
