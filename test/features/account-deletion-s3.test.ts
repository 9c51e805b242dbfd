import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import { createS3BlobStore, ensureBucket, type S3BlobStoreConfig } from '../../src/adapters/blob-store-s3.js';
import { purgeDueAccounts } from '../../src/features/deletion/account-purge.js';
import { emptyAndDeleteBucket, swiftConfig } from '../adapters/s3-servers.js';
import { createTestApp, type TestApp } from '../harness.js';
import { DAY, populate, proofOf, rowsHolding, storeHolding, unrecordedMultipart } from './deletion-helpers.js';
import { sha256Hex } from './sync-helpers.js';

// Account deletion on a real S3 server: Swift (which checks signatures and keeps real multipart
// state) when S3_TEST_ENDPOINT is set, as in CI. (s3rver cannot abort multipart uploads, so it
// cannot run this.) Zero rows for the account, zero
// objects and zero open multipart uploads under its prefix, including an upload left
// unfinished, one only the store knows, and a presigned upload never committed.

function suite(name: string, setup: () => Promise<{ config: S3BlobStoreConfig; stop: () => Promise<void> }>, listsMultipart: boolean) {
  describe(name, () => {
    let t: TestApp;
    let store: BlobStore;
    let config: S3BlobStoreConfig;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ config, stop } = await setup());
      await ensureBucket(config);
      store = createS3BlobStore(config);
      t = createTestApp({ SESSION_IDLE_HOURS: '2000' }, { blobs: store });
    });
    afterAll(async () => {
      t.close();
      await emptyAndDeleteBucket(store, config).catch(() => {});
      await stop();
    });

    it('leaves zero rows and zero objects of the account, with unfinished, unrecorded and presigned-but-uncommitted uploads; the bystander keeps everything', async () => {
      const victim = await populate(t);
      const bystander = await populate(t);
      const { accountId } = victim.member;
      await unrecordedMultipart(t, accountId);
      const bytes = randomBytes(2000);
      const presigned = await t.request('POST', '/v1/blobs/presign', {
        body: { size: bytes.length, sha256: sha256Hex(bytes) },
        headers: { Authorization: `Bearer ${victim.member.token}` },
      });
      expect(presigned.ok).toBe(true);
      const { request } = (await presigned.json()) as { request: { url: string; headers: Record<string, string> } };
      expect((await fetch(request.url, { method: 'PUT', headers: request.headers, body: bytes })).status).toBe(200);
      const before = await storeHolding(t, accountId);
      expect(before.keys.length).toBe(2); // the item's blob and the presigned upload never committed
      expect(before.multipart.length).toBe(listsMultipart ? 2 : 0);

      await victim.member.api.requestAccountDeletion(await proofOf(victim.member));
      t.clock.advance(7 * DAY);
      expect(await purgeDueAccounts(t.deps)).toMatchObject({ accounts: 1, failed: 0 });

      expect(rowsHolding(t, victim.ids)).toEqual({});
      expect(await storeHolding(t, accountId)).toEqual({ keys: [], multipart: [] });
      expect((await storeHolding(t, bystander.member.accountId)).keys.length).toBe(1);
      expect((await bystander.member.api.item(bystander.itemId)).blob?.id).toBe(bystander.blobId);
    });
  });
}

if (process.env.S3_TEST_ENDPOINT) {
  suite('account deletion on Swift (S3_TEST_ENDPOINT)', async () => ({ config: swiftConfig(), stop: async () => {} }), true);
} else {
  describe.skip('account deletion on Swift (S3_TEST_ENDPOINT)', () => {
    it('needs S3_TEST_ENDPOINT', () => {});
  });
}
