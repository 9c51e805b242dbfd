import { type ApiClient, type Collection, HomingApiError, type Item } from '../api.js';
import { randomBytes, toBase64Url } from '../../protocol/encoding.js';
import {
  newSymmetricKey,
  openCollectionMetadata,
  openItemMetadata,
  sealCollectionMetadata,
  sealItemMetadata,
  unwrapCollectionKey,
  unwrapItemKey,
  wrapCollectionKey,
  wrapItemKey,
} from '../crypto/sync-keys.js';

/** What a client keeps of the account between runs: plaintext metadata, so keep it private. */
export interface SyncReplica {
  cursor: string;
  collections: Record<string, { kind: string; version: number; name: string }>;
  items: Record<string, ReplicaItem>;
}

export interface ReplicaItem {
  collectionId: string;
  version: number;
  state: Item['state'];
  meta: ItemMetadata | null;
  blob: Item['blob'];
}

/** Item metadata as the client sees it. blobKey/chunkSize open the item's blob, if it has one. */
export interface ItemMetadata {
  name: string;
  [field: string]: unknown;
}

export const emptyReplica = (): SyncReplica => ({ cursor: '0', collections: {}, items: {} });

export type SaveOutcome = 'created' | 'updated' | 'kept-both';

/**
 * Keeps a local replica in step with the account: pulls changes page by page and opens them,
 * pushes local changes as version-checked batches, and on a conflict refetches and merges.
 * The server only ever sees what this seals.
 */
export function createSyncEngine(input: {
  api: ApiClient;
  accountId: string;
  masterKey: Uint8Array;
  replica: SyncReplica;
  /** Most changes per page pulled (the server's default when absent). */
  pageSize?: number;
}) {
  const { api, accountId, masterKey, replica, pageSize } = input;
  const collectionKeys = new Map<string, Uint8Array>();

  const collectionKey = async (collectionId: string) => {
    let key = collectionKeys.get(collectionId);
    if (!key) {
      const { collections } = await api.collections();
      const found = collections.find((c) => c.id === collectionId);
      if (!found) throw new Error(`collection ${collectionId} is not in this account`);
      learnCollection(found);
      key = collectionKeys.get(collectionId)!;
    }
    return key;
  };

  function learnCollection(collection: Collection) {
    const ids = { accountId, collectionId: collection.id };
    const key = unwrapCollectionKey(masterKey, ids, collection.wrappedKey);
    collectionKeys.set(collection.id, key);
    const meta = openCollectionMetadata<{ name: string }>(key, ids, collection.version, collection.encryptedMetadata);
    replica.collections[collection.id] = { kind: collection.kind, version: collection.version, name: meta.name };
  }

  async function openItem(item: Item): Promise<ReplicaItem> {
    if (item.state === 'deleted' || !item.wrappedKey || !item.encryptedMetadata) {
      return { collectionId: item.collectionId, version: item.version, state: item.state, meta: null, blob: null };
    }
    const ids = { accountId, collectionId: item.collectionId, itemId: item.id };
    const itemKey = unwrapItemKey(await collectionKey(item.collectionId), ids, item.wrappedKey);
    const meta = openItemMetadata<ItemMetadata>(itemKey, ids, item.version, item.encryptedMetadata);
    return { collectionId: item.collectionId, version: item.version, state: item.state, meta, blob: item.blob };
  }

  async function learnItem(item: Item) {
    replica.items[item.id] = await openItem(item);
  }

  /**
   * Pulls every change since the replica's cursor; returns how many items changed. A batch is
   * applied whole or not at all: the pages of a commit split across pages are held until its last
   * one arrives (a batch is at most MAX_BATCH_CHANGES items), every item is opened before any is
   * stored, and the replica's cursor only ever moves to a commit boundary. So a pull that fails or
   * stops partway never leaves the replica holding half of one. A replica offline for longer than
   * the server keeps tombstones is told cursor_expired, and resyncs (see resync).
   */
  async function pull(onPage?: (changed: number) => void) {
    try {
      return (await pullPages(replica.cursor, onPage)).changed;
    } catch (err) {
      if (!(err instanceof HomingApiError && err.code === 'cursor_expired')) throw err;
      return resync(onPage);
    }
  }

  /**
   * Reads everything again from the start and drops what the server no longer lists: items
   * whose tombstones were purged while this replica was away, and collections deleted meanwhile.
   * The cursor moves only once the whole pass is done, so a resync cut short starts over.
   */
  async function resync(onPage?: (changed: number) => void) {
    const seen = new Set<string>();
    const { changed, cursor } = await pullPages('0', onPage, seen);
    let removed = 0;
    for (const id of Object.keys(replica.items)) {
      if (!seen.has(id)) {
        delete replica.items[id];
        removed++;
      }
    }
    await forgetDeletedCollections();
    replica.cursor = cursor;
    return changed + removed;
  }

  async function forgetDeletedCollections() {
    const listed = new Set((await api.collections()).collections.map((c) => c.id));
    for (const id of Object.keys(replica.collections)) {
      if (!listed.has(id)) {
        delete replica.collections[id];
        collectionKeys.delete(id);
      }
    }
  }

  async function pullPages(start: string, onPage?: (changed: number) => void, seen?: Set<string>) {
    let changed = 0;
    let cursor = start;
    let held: Item[] = [];
    for (;;) {
      const page = await api.changes(cursor, pageSize);
      for (const collection of page.collections) learnCollection(collection);
      held.push(...page.items);
      cursor = page.cursor;
      // A server that predates commitComplete never split a commit.
      if (page.commitComplete !== false) {
        const opened: [string, ReplicaItem][] = [];
        for (const item of held) opened.push([item.id, await openItem(item)]);
        for (const [id, item] of opened) {
          replica.items[id] = item;
          seen?.add(id);
        }
        changed += held.length;
        held = [];
        // During a resync the cursor waits for the end of the pass.
        if (!seen) replica.cursor = cursor;
        onPage?.(changed);
      }
      if (!page.hasMore) return { changed, cursor };
    }
  }

  /** The collection of a kind, created (with its own key) the first time it is needed. */
  async function collectionFor(kind: string, name = kind) {
    const existing = Object.entries(replica.collections).find(([, c]) => c.kind === kind);
    if (existing) return existing[0];
    const collectionId = toBase64Url(randomBytes(16));
    const ids = { accountId, collectionId };
    const key = newSymmetricKey();
    const created = await api.createCollection({
      id: collectionId,
      kind,
      wrappedKey: wrapCollectionKey(masterKey, ids, key),
      encryptedMetadata: sealCollectionMetadata(key, ids, 1, { name }),
    });
    learnCollection(created);
    return collectionId;
  }

  async function createItem(collectionId: string, meta: ItemMetadata, blobId?: string) {
    const itemId = toBase64Url(randomBytes(16));
    const ids = { accountId, collectionId, itemId };
    const itemKey = newSymmetricKey();
    const { items } = await api.applyChanges([
      {
        op: 'create',
        itemId,
        collectionId,
        wrappedKey: wrapItemKey(await collectionKey(collectionId), ids, itemKey),
        encryptedMetadata: sealItemMetadata(itemKey, ids, 1, meta),
        blobId,
      },
    ]);
    await learnItem(items[0]!);
    return itemId;
  }

  /**
   * Saves an item: a new one, or a new version of one the replica knows. If another device got
   * there first, the change is not lost: after a refetch the local version is kept beside the
   * other one, as a copy named for the conflict.
   */
  async function saveItem(input: { kind: string; meta: ItemMetadata; blobId?: string; itemId?: string }): Promise<{ itemId: string; outcome: SaveOutcome }> {
    const collectionId = await collectionFor(input.kind);
    const known = input.itemId ? replica.items[input.itemId] : undefined;
    if (!input.itemId || !known || known.state !== 'live') {
      try {
        return { itemId: await createItem(collectionId, input.meta, input.blobId), outcome: 'created' };
      } catch (err) {
        // The collection was deleted (with its kind, say) from another device: make a new one.
        if (!(err instanceof HomingApiError && err.code === 'not_found')) throw err;
        await forgetDeletedCollections();
        if (replica.collections[collectionId]) throw err;
        return { itemId: await createItem(await collectionFor(input.kind), input.meta, input.blobId), outcome: 'created' };
      }
    }
    const ids = { accountId, collectionId: known.collectionId, itemId: input.itemId };
    const itemKey = newSymmetricKey();
    try {
      const { items } = await api.applyChanges([
        {
          op: 'update',
          itemId: input.itemId,
          baseVersion: known.version,
          wrappedKey: wrapItemKey(await collectionKey(known.collectionId), ids, itemKey),
          encryptedMetadata: sealItemMetadata(itemKey, ids, known.version + 1, input.meta),
          blobId: input.blobId ?? null,
        },
      ]);
      await learnItem(items[0]!);
      return { itemId: input.itemId, outcome: 'updated' };
    } catch (err) {
      if (!(err instanceof HomingApiError && err.code === 'version_conflict')) throw err;
      await pull();
      const meta = { ...input.meta, name: conflictName(input.meta.name) };
      return { itemId: await createItem(collectionId, meta, input.blobId), outcome: 'kept-both' };
    }
  }

  async function deleteItem(itemId: string) {
    const known = replica.items[itemId];
    if (!known || known.state === 'deleted') return;
    const { items } = await api.applyChanges([{ op: 'delete', itemId, baseVersion: known.version }]);
    await learnItem(items[0]!);
  }

  const liveItems = () =>
    Object.entries(replica.items).flatMap(([id, item]) => (item.state === 'live' && item.meta ? [{ id, ...item, meta: item.meta }] : []));

  return { replica, pull, resync, collectionFor, saveItem, deleteItem, liveItems };
}

export type SyncEngine = ReturnType<typeof createSyncEngine>;

/** "notes/todo.md" → "notes/todo (conflict 2026-11-29).md" */
export function conflictName(name: string, now = new Date()) {
  const stamp = now.toISOString().slice(0, 10);
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  const hasExtension = dot > slash + 1;
  const stem = hasExtension ? name.slice(0, dot) : name;
  const extension = hasExtension ? name.slice(dot) : '';
  return `${stem} (conflict ${stamp})${extension}`;
}
