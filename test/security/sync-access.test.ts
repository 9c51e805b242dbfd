import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { type Account, newAccount, newId, sha256Hex } from '../features/sync-helpers.js';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../harness.js';
import { expectError } from './helpers.js';

// Promise 3 of DESIGN.md from the attacker's side: account B (attacker) holds a valid session and
// knows every id of account A (victim). It must reach nothing of A's, and "A's" must look exactly
// like "does not exist". Every test re-reads A's data as A afterwards.

const MiB = 1024 * 1024;
let t: TestApp;
let A: Account;
let B: Account;
/** The text of every JSON response of the test: none may carry an object key or store path. */
let seen: string[];

beforeEach(async () => {
  t = createTestApp();
  seen = [];
  const original = t.app.request;
  t.app.request = (async (...args: Parameters<typeof original>) => {
    const res = await original(...args);
    if (res.headers.get('Content-Type')?.includes('json')) seen.push(await res.clone().text());
    return res;
  }) as typeof original;
  A = await newAccount(t);
  B = await newAccount(t);
});
afterEach(() => {
  try {
    expect(seen.length).toBeGreaterThan(0);
    for (const text of seen) {
      expect(text).not.toContain('accounts/');
      expect(text).not.toContain(t.dir);
    }
  } finally {
    t.close();
  }
});

const bytesOf = (n: number, salt: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >>> 9) + salt) & 255);
const changes = (who: Account, list: unknown[]) => who.call('POST', '/v1/sync/changes', { changes: list });
const raw = (who: Account, method: string, path: string, bytes: Uint8Array) =>
  t.app.request(`${TEST_ORIGIN}${path}`, {
    method,
    headers: { ...who.auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
    body: bytes as Uint8Array<ArrayBuffer>,
  });

/** A's world: a collection, a committed blob, and an item holding it. */
async function seedVictim() {
  const collectionId = await A.createCollection('photos');
  const bytes = bytesOf(4096, 1);
  const blob = await A.uploadBlob(bytes);
  expect(blob.status).toBe(201);
  const { blobId } = (await blob.json()) as { blobId: string };
  const item = A.create(collectionId, { blobId });
  expect((await changes(A, [item])).status).toBe(200);
  return { collectionId, blobId, item, itemId: item.itemId, sha: sha256Hex(bytes) };
}
type Victim = Awaited<ReturnType<typeof seedVictim>>;

/** Everything of A's, as A sees it: item, collections, the whole change feed, the blob's bytes. */
async function snapshot(who: Account, v: Pick<Victim, 'itemId' | 'blobId'>) {
  const blob = await who.call('GET', `/v1/blobs/${v.blobId}`);
  return {
    item: await who.json('GET', `/v1/sync/items/${v.itemId}`),
    collections: (await who.json('GET', '/v1/sync/collections')).body,
    feed: (await who.json('GET', '/v1/sync/changes?since=0')).body,
    blob: { status: blob.status, sha: sha256Hex(new Uint8Array(await blob.arrayBuffer())) },
  };
}

/** The foreign id and a random one get the same 404 not_found, message and all (ids aside). */
async function sameAsMissing(send: (id: string) => Response | Promise<Response>, foreignId: string) {
  const missingId = newId();
  const foreign = await expectError(send(foreignId), 404, 'not_found');
  const missing = await expectError(send(missingId), 404, 'not_found');
  expect(foreign.message.replaceAll(foreignId, '<id>')).toBe(missing.message.replaceAll(missingId, '<id>'));
  return foreign;
}

describe('reading another account', () => {
  it("B cannot read A's item, and neither its feed nor its collection list names anything of A's", async () => {
    const v = await seedVictim();
    const before = await snapshot(A, v);
    const own = await B.createCollection();
    expect((await changes(B, [B.create(own)])).status).toBe(200);

    await sameAsMissing((id) => B.call('GET', `/v1/sync/items/${id}`), v.itemId);
    const feed = await B.json('GET', '/v1/sync/changes?since=0');
    const listed = await B.json('GET', '/v1/sync/collections');
    expect(feed.body.collections.map((c: any) => c.id)).toEqual([own]);
    expect(feed.body.items.map((i: any) => i.collectionId)).toEqual([own]);
    expect(listed.body.collections.map((c: any) => c.id)).toEqual([own]);
    for (const secret of [v.itemId, v.collectionId, v.blobId, v.item.encryptedMetadata, v.item.wrappedKey, A.accountId]) {
      expect(JSON.stringify([feed.body, listed.body])).not.toContain(secret);
    }
    expect(await snapshot(A, v)).toEqual(before);
  });
});

describe("writing to another account's items and collections", () => {
  it("B cannot update, trash, restore or delete A's item, even with the right version", async () => {
    const v = await seedVictim();
    let before = await snapshot(A, v);
    const attacks = [
      { op: 'update', baseVersion: 1, encryptedMetadata: 'cHduZWQ' },
      { op: 'update', baseVersion: 1, encryptedMetadata: 'cHduZWQ', blobId: null },
      { op: 'trash', baseVersion: 1 },
      { op: 'delete', baseVersion: 1 },
    ];
    for (const change of attacks) await sameAsMissing((itemId) => changes(B, [{ ...change, itemId }]), v.itemId);
    expect(await snapshot(A, v)).toEqual(before);

    // Trashed, so that a restore (and a delete at version 2) would apply if the account were ignored.
    expect((await changes(A, [{ op: 'trash', itemId: v.itemId, baseVersion: 1 }])).status).toBe(200);
    before = await snapshot(A, v);
    for (const op of ['restore', 'delete']) await sameAsMissing((itemId) => changes(B, [{ op, itemId, baseVersion: 2 }]), v.itemId);
    expect(await snapshot(A, v)).toEqual(before);
    expect(before.item.body).toMatchObject({ state: 'trashed', version: 2, blob: { id: v.blobId } });
  });

  it("a batch of B's that touches one of A's items writes nothing at all", async () => {
    const v = await seedVictim();
    const own = await B.createCollection();
    const before = { a: await snapshot(A, v), b: (await B.json('GET', '/v1/sync/changes?since=0')).body };
    const mine = B.create(own);
    const refused = await expectError(changes(B, [mine, { op: 'trash', itemId: v.itemId, baseVersion: 1 }]), 404, 'not_found');
    expect(refused.message).toContain(v.itemId);
    await expectError(B.call('GET', `/v1/sync/items/${mine.itemId}`), 404, 'not_found');
    expect((await B.json('GET', '/v1/sync/changes?since=0')).body).toEqual(before.b);
    expect(await snapshot(A, v)).toEqual(before.a);
  });

  it("B cannot create an item in A's collection, nor change A's collection", async () => {
    const v = await seedVictim();
    const before = await snapshot(A, v);
    const attempt = B.create(v.collectionId);
    await sameAsMissing((collectionId) => changes(B, [{ ...attempt, collectionId }]), v.collectionId);
    await sameAsMissing(
      (id) => B.call('PATCH', `/v1/sync/collections/${id}`, { baseVersion: 1, encryptedMetadata: 'cHduZWQ' }),
      v.collectionId,
    );
    await expectError(A.call('GET', `/v1/sync/items/${attempt.itemId}`), 404, 'not_found');
    await expectError(B.call('GET', `/v1/sync/items/${attempt.itemId}`), 404, 'not_found');
    expect(await snapshot(A, v)).toEqual(before);
  });
});

describe("another account's blobs", () => {
  it("B cannot attach, download, presign or commit A's blob", async () => {
    const v = await seedVictim();
    const own = await B.createCollection();
    const mine = B.create(own);
    expect((await changes(B, [mine])).status).toBe(200);
    const before = { a: await snapshot(A, v), b: await B.json('GET', `/v1/sync/items/${mine.itemId}`) };

    await sameAsMissing((blobId) => changes(B, [B.create(own, { blobId })]), v.blobId);
    await sameAsMissing(
      (blobId) => changes(B, [{ op: 'update', itemId: mine.itemId, baseVersion: 1, encryptedMetadata: 'eA', blobId }]),
      v.blobId,
    );
    await sameAsMissing((id) => B.call('GET', `/v1/blobs/${id}`), v.blobId);
    await sameAsMissing((id) => t.request('GET', `/v1/blobs/${id}`, { headers: { ...B.auth, Range: 'bytes=0-99' } }), v.blobId);
    await sameAsMissing((id) => B.call('GET', `/v1/blobs/${id}/url`), v.blobId);
    await sameAsMissing((id) => B.call('POST', `/v1/blobs/${id}/commit`), v.blobId);

    expect(await B.json('GET', `/v1/sync/items/${mine.itemId}`)).toEqual(before.b);
    expect(await snapshot(A, v)).toEqual(before.a);
    expect(before.a.blob).toEqual({ status: 200, sha: v.sha });
  });

  it('one blob cannot be attached to two items: the second is refused 409 and the first keeps it', async () => {
    const own = await B.createCollection();
    const { blobId } = (await (await B.uploadBlob(bytesOf(1000, 2))).json()) as { blobId: string };
    const first = B.create(own, { blobId });
    expect((await changes(B, [first])).status).toBe(200);
    const other = B.create(own);
    expect((await changes(B, [other])).status).toBe(200);
    const before = await snapshot(B, { itemId: first.itemId, blobId });

    const second = B.create(own, { blobId });
    await expectError(changes(B, [second]), 409, 'conflict');
    await expectError(changes(B, [{ op: 'update', itemId: other.itemId, baseVersion: 1, encryptedMetadata: 'eA', blobId }]), 409, 'conflict');
    await expectError(B.call('GET', `/v1/sync/items/${second.itemId}`), 404, 'not_found');
    expect((await B.json('GET', `/v1/sync/items/${other.itemId}`)).body).toMatchObject({ version: 1, blob: null });
    expect(await snapshot(B, { itemId: first.itemId, blobId })).toEqual(before);
    expect(before.item.body.blob).toMatchObject({ id: blobId, size: 1000 });
  });

  it("B cannot pin A's blob: after B's refused attaches, A deleting its item still frees the blob", async () => {
    const v = await seedVictim();
    const own = await B.createCollection();
    const mine = B.create(own);
    expect((await changes(B, [mine])).status).toBe(200);
    await expectError(changes(B, [B.create(own, { blobId: v.blobId })]), 404, 'not_found');
    await expectError(changes(B, [{ op: 'update', itemId: mine.itemId, baseVersion: 1, encryptedMetadata: 'eA', blobId: v.blobId }]), 404, 'not_found');

    expect((await changes(A, [{ op: 'delete', itemId: v.itemId, baseVersion: 1 }])).status).toBe(200);
    await expectError(A.call('GET', `/v1/blobs/${v.blobId}`), 404, 'not_found');
    expect(await t.deps.blobs.head(`accounts/${A.accountId}/blobs/${v.blobId}`)).toBeNull();
  });

  it("B cannot put a part into, complete or abandon A's multipart upload; A finishes it afterwards", async () => {
    const big = bytesOf(5 * MiB + 1, 3);
    const started = await A.json('POST', '/v1/uploads', { size: big.length, sha256: sha256Hex(big), partSize: 5 * MiB });
    expect(started.body).toMatchObject({ partSize: 5 * MiB, partCount: 2 });
    const { uploadId, blobId } = started.body;
    expect((await raw(A, 'PUT', `/v1/uploads/${uploadId}/parts/1`, big.subarray(0, 5 * MiB))).status).toBe(200);

    const garbage = bytesOf(5 * MiB, 99);
    await sameAsMissing((id) => raw(B, 'PUT', `/v1/uploads/${id}/parts/1`, garbage), uploadId);
    await sameAsMissing((id) => raw(B, 'PUT', `/v1/uploads/${id}/parts/2`, garbage.subarray(0, 1)), uploadId);
    await sameAsMissing((id) => B.call('POST', `/v1/uploads/${id}/complete`), uploadId);
    await sameAsMissing((id) => B.call('DELETE', `/v1/uploads/${id}`), uploadId);
    await sameAsMissing((id) => B.call('GET', `/v1/blobs/${id}`), blobId);

    expect((await raw(A, 'PUT', `/v1/uploads/${uploadId}/parts/2`, big.subarray(5 * MiB))).status).toBe(200);
    const done = await A.json('POST', `/v1/uploads/${uploadId}/complete`);
    expect(done).toEqual({ status: 201, body: { blobId, size: big.length, sha256: sha256Hex(big) } });
    const download = await A.call('GET', `/v1/blobs/${blobId}`);
    expect(sha256Hex(new Uint8Array(await download.arrayBuffer()))).toBe(sha256Hex(big));
    await sameAsMissing((id) => B.call('GET', `/v1/blobs/${id}`), blobId);
  });
});

describe('object keys', () => {
  it('path tricks in blob and upload ids never reach the store, and each blob lies under its own account only', async () => {
    const v = await seedVictim();
    const { blobId: bBlob } = (await (await B.uploadBlob(bytesOf(500, 4))).json()) as { blobId: string };
    const tricks = [
      '..%2F..%2Faccounts',
      `..%2F..%2F${A.accountId}%2Fblobs%2F${v.blobId}`,
      `%2E%2E%2F%2E%2E%2Faccounts%2F${A.accountId}%2Fblobs%2F${v.blobId}`,
      `..%5C..%5Caccounts%5C${A.accountId}%5Cblobs%5C${v.blobId}`,
      `${v.blobId}%00`,
      `${bBlob}%2F..%2F..%2F..%2F${A.accountId}%2Fblobs%2F${v.blobId}`,
      `.multipart`,
    ];
    for (const trick of tricks) {
      for (const [method, path] of [
        ['GET', `/v1/blobs/${trick}`],
        ['GET', `/v1/blobs/${trick}/url`],
        ['POST', `/v1/blobs/${trick}/commit`],
        ['POST', `/v1/uploads/${trick}/complete`],
        ['DELETE', `/v1/uploads/${trick}`],
      ] as const) {
        const res = await B.call(method, path);
        expect([400, 404], `${method} ${path}`).toContain(res.status);
        await expectError(res, res.status, res.status === 400 ? 'validation_failed' : 'not_found');
      }
    }

    const keysUnder = async (prefix: string) => (await t.deps.blobs.list(prefix)).keys.map((k) => k.key);
    expect(await keysUnder(`accounts/${A.accountId}/`)).toEqual([`accounts/${A.accountId}/blobs/${v.blobId}`]);
    expect(await keysUnder(`accounts/${B.accountId}/`)).toEqual([`accounts/${B.accountId}/blobs/${bBlob}`]);
    expect((await keysUnder('accounts/')).sort()).toEqual(
      [`accounts/${A.accountId}/blobs/${v.blobId}`, `accounts/${B.accountId}/blobs/${bBlob}`].sort(),
    );
    expect((await snapshot(A, v)).blob).toEqual({ status: 200, sha: v.sha });
  });
});

describe('ids are scoped per account', () => {
  it("B may reuse A's collection and item ids, and each account keeps its own objects", async () => {
    const v = await seedVictim();
    const before = await snapshot(A, v);
    const collection = await B.json('POST', '/v1/sync/collections', { id: v.collectionId, kind: 'notes', wrappedKey: v.item.wrappedKey, encryptedMetadata: 'Yg' });
    expect(collection.status).toBe(201);
    const twin = B.create(v.collectionId, { itemId: v.itemId });
    const created = await B.json('POST', '/v1/sync/changes', { changes: [twin] });
    expect(created.status).toBe(200);
    expect(created.body.items[0]).toMatchObject({ id: v.itemId, version: 1, encryptedMetadata: twin.encryptedMetadata, blob: null });
    expect((await changes(B, [{ op: 'update', itemId: v.itemId, baseVersion: 1, encryptedMetadata: 'YjI' }])).status).toBe(200);
    expect((await B.json('PATCH', `/v1/sync/collections/${v.collectionId}`, { baseVersion: 1, encryptedMetadata: 'YjM' })).status).toBe(200);
    expect(await snapshot(A, v)).toEqual(before);

    // Deleting B's twin releases B's blobs only: A's item keeps its blob, which still downloads.
    expect((await changes(B, [{ op: 'delete', itemId: v.itemId, baseVersion: 2 }])).status).toBe(200);
    expect((await B.json('GET', `/v1/sync/items/${v.itemId}`)).body).toMatchObject({ state: 'deleted', version: 3 });
    expect((await B.json('GET', '/v1/sync/collections')).body.collections).toEqual([
      expect.objectContaining({ id: v.collectionId, kind: 'notes', encryptedMetadata: 'YjM', version: 2 }),
    ]);
    expect(await snapshot(A, v)).toEqual(before);
    expect(before.item.body).toMatchObject({ state: 'live', version: 1, blob: { id: v.blobId } });
  });
});

describe('replay', () => {
  it('a create batch sent again is refused 409, and so is the same update sent twice', async () => {
    const v = await seedVictim();
    const replayed = await A.json('POST', '/v1/sync/changes', { changes: [v.item] });
    expect(replayed).toMatchObject({ status: 409, body: { error: { code: 'version_conflict', details: { conflicts: [{ itemId: v.itemId, version: 1 }] } } } });
    const update = { op: 'update', itemId: v.itemId, baseVersion: 1, encryptedMetadata: 'djI' };
    expect((await changes(A, [update])).status).toBe(200);
    const after = await snapshot(A, v);
    const again = await A.json('POST', '/v1/sync/changes', { changes: [update] });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'version_conflict', details: { conflicts: [{ itemId: v.itemId, version: 2 }] } } } });
    expect(await snapshot(A, v)).toEqual(after);
    expect(after.item.body).toMatchObject({ version: 2, encryptedMetadata: 'djI', blob: { id: v.blobId } });
    expect(after.feed.items).toHaveLength(1);
  });
});

describe('authentication', () => {
  it('no session, a device token, or a revoked session gets 401 on every sync and blob route', async () => {
    const v = await seedVictim();
    const started = await A.json('POST', '/v1/uploads', { size: 10, sha256: sha256Hex(bytesOf(10, 5)) });
    const before = await snapshot(A, v);
    const device = await A.json('POST', '/v1/devices', {
      name: 'Phone',
      model: 'Pixel 9',
      platform: 'android',
      identifierHash: toBase64Url(new Uint8Array(32).fill(7)),
    });
    expect(device.status).toBe(201);
    const R = await newAccount(t);
    expect((await R.call('GET', '/v1/sync/collections')).status).toBe(200);
    expect((await R.call('POST', '/v1/auth/logout')).status).toBe(204);

    const sealed = v.item.wrappedKey;
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/sync/collections'],
      ['POST', '/v1/sync/collections', { id: newId(), kind: 'notes', wrappedKey: sealed, encryptedMetadata: 'eA' }],
      ['PATCH', `/v1/sync/collections/${v.collectionId}`, { baseVersion: 1, encryptedMetadata: 'eA' }],
      ['POST', '/v1/sync/changes', { changes: [{ op: 'trash', itemId: v.itemId, baseVersion: 1 }] }],
      ['GET', '/v1/sync/changes?since=0'],
      ['GET', `/v1/sync/items/${v.itemId}`],
      ['POST', '/v1/blobs'],
      ['GET', `/v1/blobs/${v.blobId}`],
      ['GET', `/v1/blobs/${v.blobId}/url`],
      ['POST', `/v1/blobs/${v.blobId}/commit`],
      ['POST', '/v1/blobs/presign', { size: 10, sha256: sha256Hex(bytesOf(10, 5)) }],
      ['POST', '/v1/uploads', { size: 10, sha256: sha256Hex(bytesOf(10, 5)) }],
      ['PUT', `/v1/uploads/${started.body.uploadId}/parts/1`],
      ['POST', `/v1/uploads/${started.body.uploadId}/complete`],
      ['DELETE', `/v1/uploads/${started.body.uploadId}`],
    ];
    const credentials: [string, Record<string, string>][] = [
      ['none', {}],
      ['device token', { Authorization: `Bearer ${device.body.token}` }],
      ['device token as session', { Authorization: `Bearer hs_${String(device.body.token).slice(3)}` }],
      ['revoked session', R.auth],
    ];
    for (const [label, headers] of credentials) {
      for (const [method, path, body] of routes) {
        const binary = body === undefined && ['POST', 'PUT'].includes(method) && !path.endsWith('/complete') && !path.endsWith('/commit');
        const res = t.app.request(`${TEST_ORIGIN}${path}`, {
          method,
          headers: binary
            ? { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': '10', 'X-Homing-SHA256': sha256Hex(bytesOf(10, 5)) }
            : { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: binary ? (bytesOf(10, 5) as Uint8Array<ArrayBuffer>) : body === undefined ? undefined : JSON.stringify(body),
        });
        const error = await expectError(res, 401, 'unauthorized').catch((err: Error) => {
          throw new Error(`${label}: ${method} ${path}: ${err.message}`);
        });
        expect(error.code).toBe('unauthorized');
      }
    }
    expect(await snapshot(A, v)).toEqual(before);
    expect((await raw(A, 'PUT', `/v1/uploads/${started.body.uploadId}/parts/1`, bytesOf(10, 5))).status).toBe(200);
  });
});
