import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../src/jobs.js';
import { createTestApp, type TestApp } from '../harness.js';
import { fakeSealed, newAccount, newId } from './sync-helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const DAY = 86_400_000;

/** Follows the cursor to the end; returns every page. */
async function pullAll(a: Awaited<ReturnType<typeof newAccount>>, since = '0', limit = 200) {
  const pages: any[] = [];
  let cursor = since;
  for (;;) {
    const { body } = await a.json('GET', `/v1/sync/changes?since=${cursor}&limit=${limit}`);
    pages.push(body);
    cursor = body.cursor;
    if (!body.hasMore) return { pages, cursor };
  }
}

describe('collections', () => {
  it('creates one per kind, lists them, and refuses a duplicate id or an unknown kind', async () => {
    const a = await newAccount(t);
    const contacts = await a.createCollection('contacts');
    await a.createCollection('custom:recipes');
    const listed = (await a.json('GET', '/v1/sync/collections')).body.collections;
    expect(listed.map((c: any) => c.kind)).toEqual(['contacts', 'custom:recipes']);

    const dup = await a.json('POST', '/v1/sync/collections', { id: contacts, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: 'x' });
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    const bad = await a.json('POST', '/v1/sync/collections', { id: newId(), kind: 'Photos!', wrappedKey: fakeSealed(), encryptedMetadata: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('body.kind');
  });

  it('updates metadata against the version seen, and refuses a stale one', async () => {
    const a = await newAccount(t);
    const id = await a.createCollection();
    const ok = await a.json('PATCH', `/v1/sync/collections/${id}`, { baseVersion: 1, encryptedMetadata: 'bmV3' });
    expect(ok.body).toMatchObject({ version: 2, encryptedMetadata: 'bmV3' });
    const stale = await a.json('PATCH', `/v1/sync/collections/${id}`, { baseVersion: 1, encryptedMetadata: 'b2xk' });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'version_conflict', details: { collections: [{ id, version: 2 }] } } } });
  });
});

describe('items', () => {
  it('creates, updates against the version seen, and answers a stale write with 409 and the current version', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const item = a.create(collectionId);
    const created = await a.json('POST', '/v1/sync/changes', { changes: [item] });
    expect(created.status).toBe(200);
    expect(created.body.items[0]).toMatchObject({ id: item.itemId, version: 1, state: 'live' });

    const update = { op: 'update', itemId: item.itemId, baseVersion: 1, encryptedMetadata: 'djI' };
    expect((await a.json('POST', '/v1/sync/changes', { changes: [update] })).body.items[0].version).toBe(2);

    const stale = await a.json('POST', '/v1/sync/changes', { changes: [{ ...update, encryptedMetadata: 'c3RhbGU' }] });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'version_conflict', details: { conflicts: [{ itemId: item.itemId, version: 2, state: 'live' }] } });
    expect((await a.json('GET', `/v1/sync/items/${item.itemId}`)).body.encryptedMetadata).toBe('djI');
  });

  it('commits a batch all or nothing: one stale change and none of the batch is written', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const first = a.create(collectionId);
    await a.json('POST', '/v1/sync/changes', { changes: [first] });
    const fresh = Array.from({ length: 20 }, () => a.create(collectionId));
    const staleUpdate = { op: 'update', itemId: first.itemId, baseVersion: 7, encryptedMetadata: 'eA' };
    const refused = await a.json('POST', '/v1/sync/changes', { changes: [...fresh, staleUpdate] });
    expect(refused.status).toBe(409);
    for (const item of fresh.slice(0, 3)) expect((await a.call('GET', `/v1/sync/items/${item.itemId}`)).status).toBe(404);
    const accepted = await a.json('POST', '/v1/sync/changes', { changes: fresh });
    expect(accepted.body.items).toHaveLength(20);
    expect(new Set(accepted.body.items.map((i: any) => i.seq)).size).toBe(1);
  });

  it('applies and reports a batch larger than one lookup chunk (D1 binds at most 100 parameters)', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const creates = Array.from({ length: 250 }, () => a.create(collectionId));
    const created = await a.json('POST', '/v1/sync/changes', { changes: creates });
    expect(created.body.items.map((i: any) => i.id).sort()).toEqual(creates.map((c) => c.itemId).sort());
    const deletes = creates.map((c) => ({ op: 'delete', itemId: c.itemId, baseVersion: 1 }));
    const deleted = await a.json('POST', '/v1/sync/changes', { changes: deletes });
    expect(deleted.body.items.filter((i: any) => i.state === 'deleted')).toHaveLength(250);
  });

  it('refuses a create into a missing collection and a duplicate item id in one batch', async () => {
    const a = await newAccount(t);
    const missing = await a.json('POST', '/v1/sync/changes', { changes: [a.create(newId())] });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const collectionId = await a.createCollection();
    const item = a.create(collectionId);
    const twice = await a.json('POST', '/v1/sync/changes', { changes: [item, { ...item }] });
    expect(twice.status).toBe(400);
  });

  it('trashes, restores, and deletes to a tombstone that sync still reports', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const item = a.create(collectionId);
    await a.json('POST', '/v1/sync/changes', { changes: [item] });
    const { cursor } = await pullAll(a);

    const trashed = await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'trash', itemId: item.itemId, baseVersion: 1 }] });
    expect(trashed.body.items[0]).toMatchObject({ state: 'trashed', trashedAt: t.clock.now(), version: 2 });
    const restored = await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'restore', itemId: item.itemId, baseVersion: 2 }] });
    expect(restored.body.items[0]).toMatchObject({ state: 'live', trashedAt: null });
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'delete', itemId: item.itemId, baseVersion: 3 }] });

    const { pages } = await pullAll(a, cursor);
    const seen = pages.flatMap((p) => p.items);
    expect(seen).toEqual([expect.objectContaining({ id: item.itemId, state: 'deleted', version: 4, encryptedMetadata: null, wrappedKey: null, blob: null })]);
    const again = await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'restore', itemId: item.itemId, baseVersion: 4 }] });
    expect(again.status).toBe(409);
  });

  it('purges trash after the retention period, deleting the blob with it', async () => {
    t.close();
    t = createTestApp({ SESSION_IDLE_HOURS: '1000', SESSION_TTL_HOURS: '1000' });
    const a = await newAccount(t);
    const collectionId = await a.createCollection('photos');
    const photo = new Uint8Array(3000).fill(7);
    const blob = await (await a.uploadBlob(photo)).json();
    const item = a.create(collectionId, { blobId: blob.blobId });
    await a.json('POST', '/v1/sync/changes', { changes: [item] });
    await a.json('POST', '/v1/sync/changes', { changes: [{ op: 'trash', itemId: item.itemId, baseVersion: 1 }] });

    t.clock.advance(29 * DAY);
    await runMaintenance(t.deps);
    expect((await a.json('GET', `/v1/sync/items/${item.itemId}`)).body.state).toBe('trashed');
    expect((await a.call('GET', `/v1/blobs/${blob.blobId}`)).status).toBe(200);

    t.clock.advance(2 * DAY);
    await runMaintenance(t.deps);
    expect((await a.json('GET', `/v1/sync/items/${item.itemId}`)).body).toMatchObject({ state: 'deleted', blob: null });
    expect((await a.call('GET', `/v1/blobs/${blob.blobId}`)).status).toBe(404);
    expect(await t.deps.blobs.head(`accounts/${a.accountId}/blobs/${blob.blobId}`)).toBeNull();
  });
});

describe('delta sync', () => {
  it('pages in commit order and ends on a commit boundary when the limit allows', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    await a.json('POST', '/v1/sync/changes', { changes: [a.create(collectionId), a.create(collectionId)] });
    await a.json('POST', '/v1/sync/changes', { changes: [a.create(collectionId)] });

    const first = (await a.json('GET', '/v1/sync/changes?since=0&limit=3')).body;
    expect(first).toMatchObject({ collections: [{ id: collectionId }], hasMore: true, commitComplete: true });
    expect(first.items).toHaveLength(2);
    expect(first.cursor).toMatch(/^\d+$/);
    const second = (await a.json('GET', `/v1/sync/changes?since=${first.cursor}&limit=3`)).body;
    expect(second).toMatchObject({ items: [expect.anything()], hasMore: false, commitComplete: true });
    const empty = (await a.json('GET', `/v1/sync/changes?since=${second.cursor}`)).body;
    expect(empty).toMatchObject({ items: [], collections: [], cursor: second.cursor, hasMore: false, commitComplete: true });
  });

  it('splits a commit bigger than the limit: every page within it, all 50 changes once, in order', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const batch = Array.from({ length: 50 }, () => a.create(collectionId));
    const { body: applied } = await a.json('POST', '/v1/sync/changes', { changes: batch });

    const { pages } = await pullAll(a, String(applied.seq - 1), 10);
    for (const page of pages) expect(page.items.length).toBeLessThanOrEqual(10);
    expect(pages.map((p) => p.commitComplete)).toEqual([false, false, false, false, true]);
    const ids = pages.flatMap((p) => p.items.map((i: any) => i.id));
    expect(ids).toEqual(batch.map((c) => c.itemId).sort());
    expect(pages.at(-1).cursor).toBe(String(applied.seq));
  });

  it('a commit landing between the pages of a split commit: nothing skipped, nothing sent twice at one version', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const batch = Array.from({ length: 50 }, () => a.create(collectionId));
    const { body: applied } = await a.json('POST', '/v1/sync/changes', { changes: batch });
    const sorted = batch.map((c) => c.itemId).sort();

    const first = (await a.json('GET', `/v1/sync/changes?since=${applied.seq - 1}&limit=10`)).body;
    expect(first.items.map((i: any) => i.id)).toEqual(sorted.slice(0, 10));
    // Another device moves on one item already sent, one not yet sent (just past the cut, where an
    // offset into the commit would now skip its neighbour), and adds a new one.
    const sentAlready = sorted[3]!;
    const notYetSent = sorted[12]!;
    const newcomer = a.create(collectionId);
    const update = (itemId: string) => ({ op: 'update', itemId, baseVersion: 1, encryptedMetadata: fakeSealed(10) });
    await a.json('POST', '/v1/sync/changes', { changes: [update(sentAlready), update(notYetSent), newcomer] });

    const rest = await pullAll(a, first.cursor, 10);
    for (const page of rest.pages) expect(page.items.length).toBeLessThanOrEqual(10);
    const seen = [...first.items, ...rest.pages.flatMap((p) => p.items)].map((i: any) => `${i.id}@${i.version}`);
    expect(new Set(seen).size).toBe(seen.length);
    const expected = [...sorted.map((id) => `${id}@1`).filter((e) => e !== `${notYetSent}@1`), `${sentAlready}@2`, `${notYetSent}@2`, `${newcomer.itemId}@1`];
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('skips and repeats nothing while writers keep committing between page reads', async () => {
    const a = await newAccount(t);
    const collectionId = await a.createCollection();
    const ids = Array.from({ length: 30 }, () => newId());
    const versions = new Map<string, number>();
    const seen: string[] = [];
    let cursor = '0';
    for (let round = 0; round < 30; round++) {
      // Writers: a create and, when there is one, an update of an earlier item.
      const changes: any[] = [a.create(collectionId, { itemId: ids[round] })];
      const earlier = ids[Math.floor(round / 2)]!;
      if (round > 0 && versions.has(earlier)) {
        changes.push({ op: 'update', itemId: earlier, baseVersion: versions.get(earlier), encryptedMetadata: fakeSealed(10) });
      }
      const { body } = await a.json('POST', '/v1/sync/changes', { changes });
      for (const item of body.items) versions.set(item.id, item.version);
      // Reader: one small page per round.
      const page = (await a.json('GET', `/v1/sync/changes?since=${cursor}&limit=3`)).body;
      for (const item of page.items) seen.push(`${item.id}@${item.version}`);
      cursor = page.cursor;
    }
    const rest = await pullAll(a, cursor, 3);
    for (const page of rest.pages) for (const item of page.items) seen.push(`${item.id}@${item.version}`);

    expect(new Set(seen).size).toBe(seen.length);
    const latest = new Map<string, number>();
    for (const entry of seen) {
      const [id, v] = entry.split('@');
      latest.set(id!, Math.max(latest.get(id!) ?? 0, Number(v)));
    }
    expect(latest).toEqual(versions);
  });

  it('rejects a malformed cursor', async () => {
    const a = await newAccount(t);
    for (const since of ['abc', '5.short', `5.${newId()}.x`, `.${newId()}`]) {
      const res = await a.json('GET', `/v1/sync/changes?since=${encodeURIComponent(since)}`);
      expect(res.status, since).toBe(400);
      expect(res.body.error.message).toContain('query.since');
    }
  });
});
