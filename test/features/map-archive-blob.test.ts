import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import { createFsBlobStore } from '../../src/adapters/blob-store-fs.js';
import { createS3BlobStore, ensureBucket } from '../../src/adapters/blob-store-s3.js';
import { runMaintenance } from '../../src/jobs.js';
import { emptyAndDeleteBucket, s3rverConfig, startS3rver, swiftConfig, tempDir } from '../adapters/s3-servers.js';
import { mapFixtureBytes } from '../fixtures/map-fixture.js';
import { createTestApp, type TestApp } from '../harness.js';
import { signUpAndLogIn } from '../security/helpers.js';
import { DAY, proofOf, storeHolding } from './deletion-helpers.js';
import { sha256Hex } from './sync-helpers.js';
import { bytesOf, expectRangesServed, expectUnsatisfiable, expectWholeHeaders, mapReader, type Reader } from './map-archive-helpers.js';

// GET /v1/map/archive with the archive in the blob store (MAP_ARCHIVE_BLOB_KEY): the fs store,
// s3rver, and Swift when CI runs it. The same checks on each; R2 is in test/workers/map-archive.spec.ts.

const KEY = 'map/region.pmtiles';
const archive = mapFixtureBytes();
const put = (store: BlobStore, key: string, bytes: Uint8Array) => store.put(key, new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), bytes.length);

function describeBlobArchive(name: string, open: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>) {
  describe(`the street map under MAP_ARCHIVE_BLOB_KEY on ${name}`, () => {
    let t: TestApp;
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    let read: Reader;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
      await put(store, KEY, archive);
      t = createTestApp({ MAP_ARCHIVE_BLOB_KEY: KEY, DELETION_GRACE_DAYS: '7' }, { blobs: store });
      read = await mapReader(t);
    }, 60_000);
    afterAll(async () => {
      t?.close();
      await cleanup?.();
    });

    it('serves the whole archive and every form of a single range from the store', async () => {
      const whole = await read();
      expectWholeHeaders(whole, archive.length);
      expect(await bytesOf(whole)).toEqual(archive);
      await expectRangesServed(read, archive);
    });

    it('HEAD, 304 on the current ETag, If-Range on a stale one answers whole, 416 past the end', async () => {
      const head = await read({}, 'HEAD');
      expectWholeHeaders(head, archive.length);
      const etag = head.headers.get('ETag')!;
      expect((await read({ 'If-None-Match': etag })).status).toBe(304);
      const stale = await read({ Range: 'bytes=0-9', 'If-Range': '"0123456789abcdef0123456789abcdef"' });
      expectWholeHeaders(stale, archive.length);
      expect(await bytesOf(stale)).toEqual(archive);
      await expectUnsatisfiable(await read({ Range: `bytes=${archive.length}-` }), archive.length);
    });

    it('an archive replaced in the store by one of the same size gets a new ETag', async () => {
      const key = 'map/replaced.pmtiles';
      const t2 = createTestApp({ MAP_ARCHIVE_BLOB_KEY: key }, { blobs: store });
      try {
        const reader = await mapReader(t2);
        expect((await reader()).status).toBe(503); // not uploaded yet: the operator's mistake, not a 500
        await put(store, key, randomBytes(1000));
        const first = (await reader()).headers.get('ETag');
        const replacement = randomBytes(1000);
        await put(store, key, replacement);
        const res = await reader({ Range: 'bytes=0-9', 'If-Range': first! });
        expect(res.headers.get('ETag')).not.toBe(first);
        expect(await bytesOf(res)).toEqual(new Uint8Array(replacement));
      } finally {
        t2.close();
      }
    });

    it('blob garbage collection and account purges leave map/ alone while they empty an account', async () => {
      // An account with a blob, due for its purge (no unfinished upload: s3rver cannot abort one).
      const doomed = await signUpAndLogIn(t);
      const bytes = randomBytes(5000);
      await doomed.api.uploadBlob(bytes, bytes.length, sha256Hex(bytes));
      await doomed.api.requestAccountDeletion(await proofOf(doomed));
      expect((await storeHolding(t, doomed.accountId)).keys.length).toBe(1);
      const etag = (await read({}, 'HEAD')).headers.get('ETag');
      t.clock.advance(30 * DAY);
      const outcomes = await runMaintenance(t.deps);
      expect(outcomes.filter((o) => o.status !== 'ok')).toEqual([]);
      expect((await storeHolding(t, doomed.accountId)).keys).toEqual([]); // the jobs did run, and delete
      expect(await store.head(KEY)).toMatchObject({ size: archive.length });
      const after = await (await mapReader(t))(); // a fresh session: the old one expired meanwhile
      expect(after.headers.get('ETag')).toBe(etag);
      expect(await bytesOf(after)).toEqual(archive);
    }, 60_000);

    it('readers dropping 60 downloads mid-stream leave the store reachable (no connection or file kept)', async () => {
      const key = 'map/large.pmtiles';
      const large = randomBytes(4 * 1024 * 1024);
      await put(store, key, large);
      const t2 = createTestApp({ MAP_ARCHIVE_BLOB_KEY: key }, { blobs: store });
      try {
        const reader = await mapReader(t2);
        for (let i = 0; i < 60; i++) {
          const body = (await reader()).body!.getReader();
          await body.read();
          await body.cancel();
        }
        const res = await reader({ Range: 'bytes=-7' });
        expect(await bytesOf(res)).toEqual(new Uint8Array(large.subarray(-7)));
      } finally {
        t2.close();
      }
    }, 30_000);
  });
}

describeBlobArchive('the fs store', async () => {
  const dir = await tempDir();
  const { rm } = await import('node:fs/promises');
  return { store: createFsBlobStore(join(dir, 'blobs')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeBlobArchive('s3rver', async () => {
  const s3rver = await startS3rver();
  const config = s3rverConfig(s3rver.port);
  await ensureBucket(config);
  return { store: createS3BlobStore(config), cleanup: () => s3rver.stop() };
});

describe.skipIf(!process.env.S3_TEST_ENDPOINT)('on Swift (S3_TEST_ENDPOINT)', () => {
  describeBlobArchive('Swift', async () => {
    const config = swiftConfig();
    await ensureBucket(config);
    const store = createS3BlobStore(config);
    return { store, cleanup: () => emptyAndDeleteBucket(store, config) };
  });
});
