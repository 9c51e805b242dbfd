import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomic } from '../../src/db/client.js';
import { attachBlob, collectGarbage, detachBlob, releaseBlobs } from '../../src/features/blobs/service.js';
import { applyChanges, type ItemChange } from '../../src/features/sync/service.js';
import { AppError } from '../../src/http/app-error.js';
import { createTestApp, type TestApp } from '../harness.js';
import { type Account, fakeSealed, newAccount, sha256Hex } from './sync-helpers.js';

// Items live in the sync feature and blobs in the blobs feature; each blob counts the items that
// hold it, moved in the same atomic write as the item. These tests try to make that count, the
// quota and the stored object disagree with the items.

const QUOTA = 5000;
const HOUR = 3_600_000;
let t: TestApp;
let a: Account;
beforeEach(async () => {
  t = createTestApp({ ACCOUNT_QUOTA_BYTES: String(QUOTA) });
  a = await newAccount(t);
});
afterEach(() => t.close());

/** The account's counted bytes, as the server reports them when refusing a blob over the quota. */
async function bytesUsed() {
  const res = await a.uploadBlob(new Uint8Array(QUOTA + 1));
  expect(res.status).toBe(507);
  return (await res.json()).error.details.bytesUsed as number;
}

async function upload(size: number) {
  const bytes = randomBytes(size);
  const res = await a.uploadBlob(bytes);
  expect(res.status).toBe(201);
  return { ...((await res.json()) as { blobId: string }), sha: sha256Hex(bytes) };
}

const apply = async (changes: unknown[]) => {
  const res = await a.json('POST', '/v1/sync/changes', { changes });
  expect(res.status).toBe(200);
  return res.body;
};

/** A collection, and an item in it holding a freshly uploaded blob of `size` bytes. */
async function itemWithBlob(size: number) {
  const collectionId = await a.createCollection('photos');
  const blob = await upload(size);
  const holder = a.create(collectionId, { blobId: blob.blobId });
  await apply([holder]);
  return { collectionId, blob, holder };
}

/** Downloads the blob whole: its status, and the SHA-256 of what came back. */
async function fetched(blobId: string) {
  const res = await a.call('GET', `/v1/blobs/${blobId}`);
  return { status: res.status, sha: res.status === 200 ? sha256Hex(new Uint8Array(await res.arrayBuffer())) : null };
}

const storedKeys = async () => (await t.deps.blobs.list(`accounts/${a.accountId}/`)).keys.map((k) => k.key);

/** Runs a change as a second device would, through the service, reporting how it ended. */
const settle = (changes: ItemChange[]) =>
  applyChanges(t.deps, a.accountId, changes).then(
    () => 'applied',
    (err: unknown) => (err instanceof AppError ? err.code : Promise.reject(err)),
  );

describe('quota and references', () => {
  it('quota is counted once when an upload commits, and freed only when the last item lets go', async () => {
    const collectionId = await a.createCollection('photos');
    expect(await bytesUsed()).toBe(0);
    const blob = await upload(3000);
    expect(await bytesUsed()).toBe(3000);

    const item = a.create(collectionId, { blobId: blob.blobId });
    await apply([item]);
    await apply([{ op: 'trash', itemId: item.itemId, baseVersion: 1 }]);
    await apply([{ op: 'restore', itemId: item.itemId, baseVersion: 2 }]);
    await apply([{ op: 'update', itemId: item.itemId, baseVersion: 3, encryptedMetadata: fakeSealed() }]);
    await apply([{ op: 'update', itemId: item.itemId, baseVersion: 4, encryptedMetadata: fakeSealed(), blobId: blob.blobId }]);
    expect(await bytesUsed()).toBe(3000);
    expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });

    await apply([{ op: 'delete', itemId: item.itemId, baseVersion: 5 }]);
    expect(await bytesUsed()).toBe(0);
    expect(await fetched(blob.blobId)).toEqual({ status: 404, sha: null });
    expect(await storedKeys()).toEqual([]);
  });

  it('a blob handed from one item to another in the same batch is neither deleted nor counted twice', async () => {
    const { collectionId, blob, holder: from } = await itemWithBlob(3000);
    const to = a.create(collectionId);
    await apply([to]);

    const moved = await apply([
      { op: 'update', itemId: from.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(), blobId: null },
      { op: 'update', itemId: to.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(), blobId: blob.blobId },
    ]);
    const blobOf = (itemId: string) => moved.items.find((i: { id: string }) => i.id === itemId).blob;
    expect([blobOf(from.itemId), blobOf(to.itemId)]).toEqual([null, { id: blob.blobId, size: 3000, sha256: blob.sha }]);
    expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });
    expect(await bytesUsed()).toBe(3000);

    await apply([{ op: 'delete', itemId: to.itemId, baseVersion: 2 }]);
    expect(await bytesUsed()).toBe(0);
    expect(await storedKeys()).toEqual([]);
  });

  it('a blob two holders reference survives the first letting go; the last one frees it and its quota', async () => {
    // Items allow one item per blob today; the count itself does not rely on that.
    const blob = await upload(2000);
    const { db } = t.deps;
    await atomic(db, [...attachBlob(t.deps, a.accountId, blob.blobId), ...attachBlob(t.deps, a.accountId, blob.blobId)]);

    await atomic(db, detachBlob(t.deps, a.accountId, blob.blobId));
    await releaseBlobs(t.deps, a.accountId, [blob.blobId]);
    expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });
    expect(await bytesUsed()).toBe(2000);

    await atomic(db, detachBlob(t.deps, a.accountId, blob.blobId));
    await releaseBlobs(t.deps, a.accountId, [blob.blobId]);
    expect(await fetched(blob.blobId)).toEqual({ status: 404, sha: null });
    expect(await bytesUsed()).toBe(0);
  });
});

describe('races between devices and collection', () => {
  it('a blob released while another device attaches it in the same moment is never deleted under a live item', async () => {
    // Device 1 drops the blob; device 2, which saw it earlier, attaches it to a new item. Where
    // their awaits interleave depends on how many each change reads, so device 2 starts after every
    // delay from none to a few event-loop turns. Both succeeding is the dangerous order (device 1's
    // batch, then device 2's, then device 1's release of the blob it let go); it must be among them.
    const delays = [...Array.from({ length: 80 }, (_, n) => ({ microtasks: n, turns: 0 })), ...[1, 2, 3].map((turns) => ({ microtasks: 0, turns }))];
    let dangerous = 0;
    for (const delay of delays) {
      const { collectionId, blob, holder } = await itemWithBlob(3000);
      const taker: ItemChange = a.create(collectionId, { blobId: blob.blobId });
      const late = async () => {
        for (let i = 0; i < delay.microtasks; i++) await Promise.resolve();
        for (let i = 0; i < delay.turns; i++) await new Promise(setImmediate);
        return settle([taker]);
      };
      const [dropped, taken] = await Promise.all([
        settle([{ op: 'update', itemId: holder.itemId, baseVersion: 1, encryptedMetadata: fakeSealed(), blobId: null }]),
        late(),
      ]);
      expect(dropped).toBe('applied');
      if (taken === 'applied') {
        dangerous++;
        const held = await a.json('GET', `/v1/sync/items/${taker.itemId}`);
        expect(held.body.blob).toEqual({ id: blob.blobId, size: 3000, sha256: blob.sha });
        expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });
        expect(await bytesUsed()).toBe(3000);
        t.clock.advance(48 * HOUR);
        await collectGarbage(t.deps);
        expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });
        await apply([{ op: 'delete', itemId: taker.itemId, baseVersion: 1 }]);
      } else {
        // Released before device 2 wrote: refused whole, nothing of it stored.
        expect(['not_found', 'conflict']).toContain(taken);
        expect((await a.call('GET', `/v1/sync/items/${taker.itemId}`)).status).toBe(404);
      }
      expect(await storedKeys()).toEqual([]);
      expect(await bytesUsed()).toBe(0);
    }
    expect(dangerous).toBeGreaterThan(0);
  });

  it('once a blob is released, a device that saw it earlier cannot attach it: 404 and nothing written', async () => {
    const { collectionId, blob, holder } = await itemWithBlob(3000);
    await apply([{ op: 'delete', itemId: holder.itemId, baseVersion: 1 }]);

    const late = a.create(collectionId, { blobId: blob.blobId });
    const refused = await a.json('POST', '/v1/sync/changes', { changes: [late] });
    expect(refused).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await a.call('GET', `/v1/sync/items/${late.itemId}`)).status).toBe(404);
    expect(await bytesUsed()).toBe(0);
  });

  it('garbage collection that listed an old unattached blob never deletes it once an item has taken it', async () => {
    const collectionId = await a.createCollection('photos');
    const first = await upload(1000);
    const second = await upload(2000);
    t.clock.advance(48 * HOUR);

    // Collection lists both blobs, then deletes them one by one. While it deletes the first
    // one's object, a device attaches the other, which collection has already listed.
    const store = t.deps.blobs;
    let taken: { itemId: string; blob: typeof first; outcome: string } | undefined;
    t.deps.blobs = Object.assign(Object.create(store), {
      async delete(keys: string[]) {
        if (!taken) {
          const blob = keys[0]!.endsWith(first.blobId) ? second : first;
          const item = a.create(collectionId, { blobId: blob.blobId });
          taken = { itemId: item.itemId, blob, outcome: await settle([item]) };
        }
        return store.delete(keys);
      },
    });
    expect(await collectGarbage(t.deps)).toEqual({ uploadsEnded: 0, blobs: 2, scratchRemoved: 0, multipartAborted: 0 });
    t.deps.blobs = store;

    const { itemId, blob, outcome } = taken!;
    expect(outcome).toBe('applied');
    expect((await a.json('GET', `/v1/sync/items/${itemId}`)).body.blob).toMatchObject({ id: blob.blobId, sha256: blob.sha });
    expect(await fetched(blob.blobId)).toEqual({ status: 200, sha: blob.sha });
    expect(await storedKeys()).toEqual([`accounts/${a.accountId}/blobs/${blob.blobId}`]);
    expect(await bytesUsed()).toBe(blob === first ? 1000 : 2000);
  });
});
