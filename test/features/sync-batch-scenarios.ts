import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { type ApiClient, HomingApiError, type ItemChange } from '../../src/client/api.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';

// Big sync batches through the SDK's client, so the same scenarios run on better-sqlite3
// (test/features/sync-batch.test.ts) and on D1 inside workerd (test/workers/sync-batch.spec.ts).
// A batch is written with a few multi-row statements per run of one operation, in chunks that
// stay within D1's 100 bound parameters; these batches span several chunks of every kind.

const id = () => toBase64Url(randomBytes(16));
const sealed = (n: number) => toBase64Url(randomBytes(n));

export async function newCollection(api: ApiClient) {
  const collectionId = id();
  await api.createCollection({ id: collectionId, kind: 'notes', wrappedKey: sealed(72), encryptedMetadata: sealed(40) });
  const create = (extra: { blobId?: string } = {}) =>
    ({ op: 'create', itemId: id(), collectionId, wrappedKey: sealed(72), encryptedMetadata: sealed(60), ...extra }) as const;
  return { collectionId, create };
}

async function uploadBlob(api: ApiClient) {
  const bytes = randomBytes(64);
  return (await api.uploadBlob(bytes, bytes.length, createHash('sha256').update(bytes).digest('hex'))).blobId;
}

/** What the server refused a batch with (the test fails if it was applied). */
async function refusal(api: ApiClient, changes: ItemChange[]) {
  const error = await api.applyChanges(changes).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(HomingApiError);
  return error as HomingApiError;
}

/** Every item change after `since` (a cursor), following the pages to the end. */
async function itemsSince(api: ApiClient, since: string) {
  const items = [];
  for (let cursor = since; ; ) {
    const page = await api.changes(cursor, 1000);
    items.push(...page.items);
    if (!page.hasMore) return { items, cursor: page.cursor };
    cursor = page.cursor;
  }
}

/**
 * 150 updates (new key or not; a blob dropped, kept or taken), 60 trashes, 50 deletes and then 60
 * restores: each item ends exactly as its change says, every blob count moves with it.
 */
export async function mixedBatchEndsEachItemAsItsChangeSays(api: ApiClient) {
  const { create } = await newCollection(api);
  const [dropped, kept, taken] = [await uploadBlob(api), await uploadBlob(api), await uploadBlob(api)];
  const creates = Array.from({ length: 260 }, (_, i) => create(i === 0 ? { blobId: dropped } : i === 1 ? { blobId: kept } : {}));
  const created = new Map((await api.applyChanges(creates)).items.map((item) => [item.id, item]));
  const ids = creates.map((c) => c.itemId);

  const newKeys = ids.map(() => sealed(72));
  const updates: ItemChange[] = ids.slice(0, 150).map((itemId, i) => ({
    op: 'update',
    itemId,
    baseVersion: 1,
    encryptedMetadata: `updated-${i}`,
    ...(i % 2 === 0 ? { wrappedKey: newKeys[i] } : {}),
    ...(i === 0 ? { blobId: null } : i === 2 ? { blobId: taken } : {}),
  }));
  const trashes: ItemChange[] = ids.slice(150, 210).map((itemId) => ({ op: 'trash', itemId, baseVersion: 1 }));
  const deletes: ItemChange[] = ids.slice(210).map((itemId) => ({ op: 'delete', itemId, baseVersion: 1 }));
  const applied = await api.applyChanges([...updates, ...trashes, ...deletes]);
  const after = new Map(applied.items.map((item) => [item.id, item]));
  expect(after.size).toBe(260);
  // The answer is what is stored: delta sync reads the rows of that commit back.
  const stored = (await itemsSince(api, String(applied.seq - 1))).items;
  expect(stored.map((item) => after.get(item.id))).toEqual(stored);
  for (const item of after.values()) expect(item).toMatchObject({ version: 2, seq: applied.seq });

  ids.slice(0, 150).forEach((itemId, i) => {
    const item = after.get(itemId)!;
    expect(item).toMatchObject({ state: 'live', encryptedMetadata: `updated-${i}` });
    expect(item.wrappedKey).toBe(i % 2 === 0 ? newKeys[i] : created.get(itemId)!.wrappedKey);
  });
  expect([after.get(ids[0]!)!.blob, after.get(ids[1]!)!.blob?.id, after.get(ids[2]!)!.blob?.id]).toEqual([null, kept, taken]);
  for (const itemId of ids.slice(3, 150)) expect(after.get(itemId)!.blob).toBeNull();
  for (const itemId of ids.slice(150, 210)) expect(after.get(itemId)).toMatchObject({ state: 'trashed', trashedAt: after.get(itemId)!.updatedAt });
  for (const itemId of ids.slice(210)) {
    expect(after.get(itemId)).toMatchObject({ state: 'deleted', wrappedKey: null, encryptedMetadata: null, blob: null, trashedAt: null });
  }
  // The blob let go of is released after the commit; the kept and the taken one stay readable.
  await expect(api.downloadBlob(dropped)).rejects.toMatchObject({ status: 404 });
  for (const blobId of [kept, taken]) await expect(api.downloadBlob(blobId)).resolves.toBeDefined();

  const restored = await api.applyChanges(ids.slice(150, 210).map((itemId) => ({ op: 'restore', itemId, baseVersion: 2 })));
  for (const item of restored.items) expect(item).toMatchObject({ state: 'live', trashedAt: null, version: 3, seq: restored.seq });
  expect(restored.items.map((item) => item.id).sort()).toEqual(ids.slice(150, 210).sort());
  const restoredStored = (await itemsSince(api, String(restored.seq - 1))).items;
  expect(restoredStored.map((item) => restored.items.find((i) => i.id === item.id))).toEqual(restoredStored);
}

/** A 100-change batch whose 57th change is stale is refused whole, naming only that item. */
export async function batchWithOneStaleChangeIsRefusedWhole(api: ApiClient) {
  const { create } = await newCollection(api);
  const existing = Array.from({ length: 60 }, () => create());
  const { seq } = await api.applyChanges(existing);
  // Another device moved item 57 on meanwhile.
  const moved = existing[56]!.itemId;
  await api.applyChanges([{ op: 'update', itemId: moved, baseVersion: 1, encryptedMetadata: 'elsewhere' }]);

  const fresh = Array.from({ length: 40 }, () => create());
  const updates: ItemChange[] = existing.map((c) => ({ op: 'update', itemId: c.itemId, baseVersion: 1, encryptedMetadata: 'mine' }));
  const refused = await refusal(api, [...updates, ...fresh]);
  expect(refused).toMatchObject({ status: 409, code: 'version_conflict', details: { conflicts: [{ itemId: moved, version: 2, state: 'live' }] } });

  const { items } = await itemsSince(api, String(seq));
  expect(items.map((i) => i.id)).toEqual([moved]);
  for (const c of [existing[0]!, existing[55]!, existing[57]!, existing[59]!]) expect((await api.item(c.itemId)).version).toBe(1);
  for (const c of fresh) await expect(api.item(c.itemId)).rejects.toMatchObject({ status: 404 });
}

/** Every item of a batch takes its one sequence number, however many statements write it. */
export async function batchesSpanningChunksKeepCommitOrder(api: ApiClient) {
  const { create } = await newCollection(api);
  const first = Array.from({ length: 130 }, () => create());
  const second = Array.from({ length: 45 }, () => create());
  const a = await api.applyChanges(first);
  const b = await api.applyChanges(second);
  expect(b.seq).toBe(a.seq + 1);
  expect(new Set(a.items.map((i) => i.seq))).toEqual(new Set([a.seq]));
  expect(new Set(b.items.map((i) => i.seq))).toEqual(new Set([b.seq]));

  // Delta sync lists them in commit order, and within a commit by id.
  const { items, cursor } = await itemsSince(api, String(a.seq - 1));
  const byId = (changes: { itemId: string }[]) => changes.map((c) => c.itemId).sort();
  expect(items.map((i) => i.id)).toEqual([...byId(first), ...byId(second)]);
  expect(cursor).toBe(String(b.seq));
}
