import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { nativeChunkCipher } from '../../src/client/crypto/blob-cipher-node.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { downloadDecrypted, uploadEncrypted } from '../../src/client/sync/blob-transfer.js';
import { conflictName, createSyncEngine, emptyReplica } from '../../src/client/sync/engine.js';
import { createApiClient } from '../../src/client/api.js';
import { newSymmetricKey, sealItemMetadata, unwrapCollectionKey, wrapItemKey } from '../../src/client/crypto/sync-keys.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * One account, logged in on two devices, each with its own replica. The laptop's requests can go
 * through `laptopFetch`, which is handed the real one, and it can pull in pages of `pageSize`.
 */
async function twoDevices(laptop: { fetch?: (input: string, init: RequestInit, real: Fetch) => Promise<Response>; pageSize?: number } = {}) {
  const email = uniqueEmail();
  await signUp(t.api(), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const real: Fetch = async (input, init) => t.app.request(input, init);
  const device = async (options: typeof laptop) => {
    const api = createApiClient({ baseUrl: TEST_ORIGIN, fetch: options.fetch ? (input, init) => options.fetch!(input, init, real) : real });
    const { response, keys } = await logIn(api, { email, password: 'pw' });
    const engine = createSyncEngine({ api, accountId: response.accountId, masterKey: keys.masterKey, replica: emptyReplica(), pageSize: options.pageSize });
    return { api, engine, accountId: response.accountId, masterKey: keys.masterKey };
  };
  return { phone: await device({}), laptop: await device(laptop) };
}

type Device = Awaited<ReturnType<typeof twoDevices>>['phone'];

/** Creates `count` notes in one batch, sealed as the SDK seals them: one commit on the server. */
async function oneBatch(device: Device, count: number) {
  const collectionId = await device.engine.collectionFor('notes');
  const collection = (await device.api.collections()).collections.find((c) => c.id === collectionId)!;
  const collectionKey = unwrapCollectionKey(device.masterKey, { accountId: device.accountId, collectionId }, collection.wrappedKey);
  const changes = Array.from({ length: count }, (_, i) => {
    const ids = { accountId: device.accountId, collectionId, itemId: toBase64Url(randomBytes(16)) };
    const itemKey = newSymmetricKey();
    return {
      op: 'create' as const,
      itemId: ids.itemId,
      collectionId,
      wrappedKey: wrapItemKey(collectionKey, ids, itemKey),
      encryptedMetadata: sealItemMetadata(itemKey, ids, 1, { name: `note-${i}.md` }),
    };
  });
  return (await device.api.applyChanges(changes)).items;
}

const isChangesPage = (input: string, init: RequestInit) => (init.method ?? 'GET') === 'GET' && new URL(input).pathname === '/v1/sync/changes';
const namesOf = (device: Device) => device.engine.liveItems().map((item) => item.meta.name).sort();

const streamOf = (bytes: Uint8Array) => () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });

async function readAll(stream: ReadableStream<Uint8Array>) {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('sync engine', () => {
  it('syncs items from one device to another, opening only what the account sealed', async () => {
    const { phone, laptop } = await twoDevices();
    await phone.engine.saveItem({ kind: 'notes', meta: { name: 'todo.md', body: 'buy milk' } });
    await phone.engine.saveItem({ kind: 'contacts', meta: { name: 'ada.vcf', fn: 'Ada Lovelace' } });

    expect(await laptop.engine.pull()).toBe(2);
    const names = laptop.engine.liveItems().map((i) => i.meta.name).sort();
    expect(names).toEqual(['ada.vcf', 'todo.md']);
    expect(Object.values(laptop.engine.replica.collections).map((c) => c.kind).sort()).toEqual(['contacts', 'notes']);

    // The server's copy holds no plaintext: the note's text is nowhere in its rows.
    const rows = JSON.stringify(await t.deps.db.query.items.findMany());
    expect(rows).not.toContain('buy milk');
    expect(rows).not.toContain('todo.md');
  });

  it('propagates updates and deletions, tombstones included', async () => {
    const { phone, laptop } = await twoDevices();
    const { itemId } = await phone.engine.saveItem({ kind: 'notes', meta: { name: 'a.md', body: 'v1' } });
    await laptop.engine.pull();
    await laptop.engine.saveItem({ kind: 'notes', itemId, meta: { name: 'a.md', body: 'v2' } });
    await phone.engine.pull();
    expect(phone.engine.replica.items[itemId]).toMatchObject({ version: 2, meta: { body: 'v2' } });
    await phone.engine.deleteItem(itemId);
    await laptop.engine.pull();
    expect(laptop.engine.replica.items[itemId]).toMatchObject({ state: 'deleted', meta: null });
    expect(laptop.engine.liveItems()).toEqual([]);
  });

  it('on a conflict refetches and keeps both versions', async () => {
    const { phone, laptop } = await twoDevices();
    const { itemId } = await phone.engine.saveItem({ kind: 'notes', meta: { name: 'plan.md', body: 'original' } });
    await laptop.engine.pull();
    await phone.engine.saveItem({ kind: 'notes', itemId, meta: { name: 'plan.md', body: 'from phone' } });
    const result = await laptop.engine.saveItem({ kind: 'notes', itemId, meta: { name: 'plan.md', body: 'from laptop' } });
    expect(result.outcome).toBe('kept-both');

    await phone.engine.pull();
    const bodies = phone.engine.liveItems().map((i) => [i.meta.name, i.meta.body]).sort();
    expect(bodies).toEqual([
      [conflictName('plan.md'), 'from laptop'],
      ['plan.md', 'from phone'],
    ]);
  });

  it('pulls a batch bigger than a page while another device keeps committing, and converges', async () => {
    let pagesServed = 0;
    const { phone, laptop } = await twoDevices({
      pageSize: 10,
      fetch: async (input, init, real) => {
        const response = await real(input, init);
        // Between the laptop's first and second page, the phone edits a note of the batch and adds one.
        if (isChangesPage(input, init) && ++pagesServed === 1) {
          const first = phone.engine.liveItems().find((item) => item.meta.name === 'note-42.md')!;
          await phone.engine.saveItem({ kind: 'notes', itemId: first.id, meta: { name: 'note-42.md', body: 'edited' } });
          await phone.engine.saveItem({ kind: 'notes', meta: { name: 'late.md' } });
        }
        return response;
      },
    });
    await oneBatch(phone, 50);
    await phone.engine.pull();

    // 51 or 52: the edited note comes twice if its first version was sent before the edit.
    expect(await laptop.engine.pull()).toBeGreaterThanOrEqual(51);
    expect(pagesServed).toBeGreaterThanOrEqual(6);
    await phone.engine.pull();
    expect(namesOf(laptop)).toHaveLength(51);
    expect(namesOf(laptop)).toEqual(namesOf(phone));
    expect(laptop.engine.liveItems().find((item) => item.meta.name === 'note-42.md')).toMatchObject({ version: 2, meta: { body: 'edited' } });
  });

  it('a pull cut off inside a split batch keeps none of it, and the next pull brings it whole', async () => {
    let offline = false;
    let pagesServed = 0;
    const { phone, laptop } = await twoDevices({
      pageSize: 10,
      fetch: async (input, init, real) => {
        if (isChangesPage(input, init) && offline) throw new TypeError('fetch failed');
        // The connection drops after the second page of the batch.
        if (isChangesPage(input, init) && ++pagesServed === 3) offline = true;
        return real(input, init);
      },
    });
    await laptop.engine.pull();
    const cursorBefore = laptop.engine.replica.cursor;
    await oneBatch(phone, 50);

    await expect(laptop.engine.pull()).rejects.toThrow('cannot reach');
    expect(laptop.engine.liveItems()).toEqual([]);
    expect(laptop.engine.replica.cursor).toBe(cursorBefore);

    offline = false;
    expect(await laptop.engine.pull()).toBe(50);
    expect(namesOf(laptop)).toEqual(Array.from({ length: 50 }, (_, i) => `note-${i}.md`).sort());
  });

  it('refuses metadata the server moved to another item', async () => {
    const { phone, laptop } = await twoDevices();
    await phone.engine.saveItem({ kind: 'notes', meta: { name: 'one.md' } });
    const { itemId: second } = await phone.engine.saveItem({ kind: 'notes', meta: { name: 'two.md' } });
    // A malicious server copies item two's ciphertext onto item one.
    const client = (t.deps.db as unknown as { $client: import('better-sqlite3').Database }).$client;
    client.prepare('UPDATE items SET encrypted_metadata = (SELECT encrypted_metadata FROM items WHERE id = ?), wrapped_key = (SELECT wrapped_key FROM items WHERE id = ?) WHERE id != ?').run(second, second, second);
    await expect(laptop.engine.pull()).rejects.toThrow();
  });
});

describe('encrypted blob transfer', () => {
  it('uploads a blob the server cannot read and downloads it byte-identical', async () => {
    const { phone, laptop } = await twoDevices();
    const photo = randomBytes(300_000);
    const ref = await uploadEncrypted(phone.api, streamOf(photo), photo.length, { cipher: nativeChunkCipher });
    const stored = await readAll((await t.deps.blobs.get(`accounts/${phone.accountId}/blobs/${ref.blobId}`))!.body);
    expect(stored.includes(photo.subarray(1000, 1064))).toBe(false);
    const back = await readAll(await downloadDecrypted(laptop.api, ref.blobId, toBase64Url(ref.blobKey)));
    expect(back.equals(photo)).toBe(true);
  });

  it('sends large blobs in parts, with progress, and gets the same bytes back', async () => {
    const { phone } = await twoDevices();
    const video = randomBytes(11 * 1024 * 1024);
    const progress: number[] = [];
    const ref = await uploadEncrypted(phone.api, streamOf(video), video.length, {
      cipher: nativeChunkCipher,
      multipartThreshold: 1024 * 1024,
      onProgress: (n) => progress.push(n),
    });
    expect(progress.at(-1)).toBe(video.length);
    const back = await readAll(await downloadDecrypted(phone.api, ref.blobId, ref.blobKey));
    expect(back.equals(video)).toBe(true);
  });

  it('fails the download when the stored ciphertext was tampered with', async () => {
    const { phone } = await twoDevices();
    const bytes = randomBytes(5000);
    const ref = await uploadEncrypted(phone.api, streamOf(bytes), bytes.length);
    const key = `accounts/${phone.accountId}/blobs/${ref.blobId}`;
    const stored = await readAll((await t.deps.blobs.get(key))!.body);
    stored[100]! ^= 1;
    await t.deps.blobs.put(key, streamOf(stored)(), stored.length);
    await expect(readAll(await downloadDecrypted(phone.api, ref.blobId, ref.blobKey))).rejects.toThrow();
  });
});
