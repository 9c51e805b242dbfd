import type { z } from '@hono/zod-openapi';
import { atomic, changedRows, isGuardFailure, isUniqueViolation, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { committedBlobs, detachBlob, detachBlobs, releaseBlobs } from '../blobs/service.js';
import { requireSyncConsent, syncConsentGuards } from '../consents/service.js';
import { batchStatements, FROM_STATES, itemsAsWritten, tombstone, type ItemChange } from './batch.js';
import * as repo from './repo.js';
import type { createCollectionBody } from '../../protocol/api/sync.js';

export type { ItemChange } from './batch.js';

// ---- views: what a client is sent ----

export const collectionView = (row: repo.CollectionRow) => ({
  id: row.id,
  kind: row.kind,
  wrappedKey: row.wrappedKey,
  encryptedMetadata: row.encryptedMetadata,
  version: row.version,
  seq: row.changeSeq,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

type BlobSummary = { id: string; size: number; sha256: string };

function itemViews(rows: repo.ItemRow[], blobsById: Map<string, BlobSummary>) {
  return rows.map((row) => {
    const blob = row.blobId ? blobsById.get(row.blobId) : undefined;
    return {
      id: row.id,
      collectionId: row.collectionId,
      version: row.version,
      state: row.state,
      wrappedKey: row.wrappedKey,
      encryptedMetadata: row.encryptedMetadata,
      blob: blob ? { id: blob.id, size: blob.size, sha256: blob.sha256 } : null,
      trashedAt: row.trashedAt,
      seq: row.changeSeq,
      updatedAt: row.updatedAt,
    };
  });
}

async function withBlobs(deps: Deps, accountId: string, rows: repo.ItemRow[]) {
  const blobIds = rows.flatMap((r) => (r.blobId ? [r.blobId] : []));
  return itemViews(rows, await committedBlobs(deps, accountId, blobIds));
}

// ---- collections ----

// Consent (src/features/consents): data of a kind whose sync is off is refused with
// consent_required before anything is written, and the write itself carries a guard, so a
// withdrawal committed meanwhile still wins. Trash and delete only take data away and stay open.

export async function createCollection(deps: Deps, accountId: string, input: z.infer<typeof createCollectionBody>) {
  await requireSyncConsent(deps, accountId, [input.kind]);
  const now = deps.clock.now();
  try {
    await atomic(deps.db, [
      ...syncConsentGuards(deps.db, accountId, [input.kind]),
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      repo.insertCollection(deps.db, { accountId, ...input, createdAt: now, updatedAt: now }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `collection ${input.id} already exists`);
    if (isGuardFailure(err)) await requireSyncConsent(deps, accountId, [input.kind]);
    throw err;
  }
  return collectionView((await repo.findCollection(deps.db, accountId, input.id))!);
}

export async function updateCollection(
  deps: Deps,
  accountId: string,
  collectionId: string,
  input: { baseVersion: number; encryptedMetadata: string },
) {
  const current = await repo.findCollection(deps.db, accountId, collectionId);
  if (!current) throw notFound('collection');
  await requireSyncConsent(deps, accountId, [current.kind]);
  try {
    await atomic(deps.db, [
      ...syncConsentGuards(deps.db, accountId, [current.kind]),
      repo.guardCollectionVersion(accountId, collectionId, input.baseVersion),
      repo.advanceSeq(deps.db, accountId),
      repo.updateCollection(deps.db, accountId, collectionId, input.encryptedMetadata, deps.clock.now()),
    ]);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
    await requireSyncConsent(deps, accountId, [current.kind]);
    const latest = await repo.findCollection(deps.db, accountId, collectionId);
    throw new AppError('version_conflict', `collection ${collectionId} is at version ${latest?.version}, not ${input.baseVersion}`, {
      details: { collections: [{ id: collectionId, version: latest?.version ?? null }] },
    });
  }
  return collectionView((await repo.findCollection(deps.db, accountId, collectionId))!);
}

export async function listCollections(deps: Deps, accountId: string) {
  return (await repo.listCollections(deps.db, accountId)).map(collectionView);
}

// ---- items ----

/**
 * Applies a batch of item changes all-or-nothing, as one commit with one sequence number.
 * Each change names the version it was made against; if any item has moved on (or a blob is not
 * committed, or a collection is missing) nothing is written and the client gets the current
 * versions to merge against. Blobs the batch leaves unreferenced are deleted after it commits.
 */
export async function applyChanges(deps: Deps, accountId: string, changes: ItemChange[]) {
  const ids = changes.map((c) => c.itemId);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new AppError('validation_failed', `body.changes: item ${duplicate} appears more than once`);

  // A create needs no row from before (its primary key refuses an item that exists), so only the
  // items the other changes move on are read: a batch of new photos reads nothing here.
  const existing = changes.flatMap((change) => (change.op === 'create' ? [] : [change.itemId]));
  const before = new Map((await repo.findItems(deps.db, accountId, existing)).map((row) => [row.id, row]));
  const seqBefore = await repo.readSeq(deps.db, accountId);
  const kinds = await kindsReceiving(deps, accountId, changes, before);
  await requireSyncConsent(deps, accountId, kinds);
  const now = deps.clock.now();
  const { statements, released } = batchStatements(deps, accountId, changes, before, now);
  try {
    await atomic(deps.db, [
      ...syncConsentGuards(deps.db, accountId, kinds),
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      ...statements,
    ]);
  } catch (err) {
    if (isGuardFailure(err)) await requireSyncConsent(deps, accountId, kinds);
    if (isGuardFailure(err) || isUniqueViolation(err)) throw await explainRefusal(deps, accountId, changes);
    throw err;
  }
  // Only blobs whose count reached zero go; one another item holds (in this batch or since) stays.
  await releaseBlobs(deps, accountId, released);
  const seq = await repo.readSeq(deps.db, accountId);
  const after = await itemsAsWritten(deps, accountId, changes, before, now, { before: seqBefore, after: seq });
  return { seq, items: await withBlobs(deps, accountId, after) };
}

/**
 * The data kinds of the collections a batch brings data into (create, update, restore). An item
 * or collection that does not exist has no kind here; the batch's own guards refuse it.
 */
async function kindsReceiving(deps: Deps, accountId: string, changes: ItemChange[], before: Map<string, repo.ItemRow>) {
  const collectionIds = new Set(
    changes.flatMap((change) => {
      if (change.op === 'create') return [change.collectionId];
      if (change.op === 'update' || change.op === 'restore') return before.has(change.itemId) ? [before.get(change.itemId)!.collectionId] : [];
      return [];
    }),
  );
  const kinds: string[] = [];
  for (const id of collectionIds) {
    const collection = await repo.findCollection(deps.db, accountId, id);
    if (collection) kinds.push(collection.kind);
  }
  return kinds;
}

/**
 * Works out, after a refused batch, which change could not apply and why. Anything missing (or
 * another account's, which is the same to this account) is 404; a moved-on version is 409.
 */
async function explainRefusal(deps: Deps, accountId: string, changes: ItemChange[]) {
  const current = new Map((await repo.findItems(deps.db, accountId, changes.map((c) => c.itemId))).map((r) => [r.id, r]));
  const blobIds = changes.flatMap((c) => ('blobId' in c && c.blobId ? [c.blobId] : []));
  const committed = await committedBlobs(deps, accountId, blobIds);

  for (const change of changes) {
    if (change.op !== 'create' && !current.has(change.itemId)) return notFound(`item ${change.itemId}`);
    if (change.op === 'create' && !(await repo.findCollection(deps.db, accountId, change.collectionId))) {
      return notFound(`collection ${change.collectionId}`);
    }
    if ('blobId' in change && change.blobId && !committed.has(change.blobId)) {
      return notFound(`blob ${change.blobId}`);
    }
  }
  const conflicts = changes.flatMap((change) => {
    const row = current.get(change.itemId);
    const stale =
      change.op === 'create' ? row !== undefined : row!.version !== change.baseVersion || !FROM_STATES[change.op].includes(row!.state);
    return stale ? [{ itemId: change.itemId, version: row!.version, state: row!.state }] : [];
  });
  if (conflicts.length > 0) {
    return new AppError('version_conflict', `${conflicts.length} of the changes were made against an old version; nothing was written`, {
      details: { conflicts },
    });
  }
  return new AppError('conflict', 'a blob in the batch is already attached to another item; nothing was written');
}

export async function getItem(deps: Deps, accountId: string, itemId: string) {
  const [row] = await repo.findItems(deps.db, accountId, [itemId]);
  if (!row) throw notFound('item');
  return (await withBlobs(deps, accountId, [row]))[0]!;
}

// ---- delta sync ----

type PageRow = { seq: number; collection?: repo.CollectionRow; item?: repo.ItemRow };

/**
 * One page of at most `limit` changes after the cursor, in commit order (within a commit, items
 * by id). A commit bigger than the page is split: the cursor then points inside it, after the last
 * item sent, and `commitComplete: false` says the rest of that commit comes next, so a client can
 * hold it back rather than show half a batch. Both reads stop at the sequence number read first:
 * a commit landing between them cannot put a later row on this page ahead of an earlier one the
 * other read missed, which would move the cursor past it. Cost: two index range scans.
 */
export async function changesSince(deps: Deps, accountId: string, since: number, limit: number, afterItemId?: string) {
  await assertCursorKept(deps, accountId, since, afterItemId);
  const upTo = await repo.readSeq(deps.db, accountId);
  const { itemRows, collectionRows } = await repo.changesAfter(deps.db, accountId, { seq: since, afterItemId }, upTo, limit + 1);
  const rows: PageRow[] = [
    ...collectionRows.map((collection) => ({ seq: collection.changeSeq, collection })),
    ...itemRows.map((item) => ({ seq: item.changeSeq, item })),
  ];
  // Stable: each table's rows keep their (commit, id) order, and a commit's collection comes first.
  rows.sort((a, b) => a.seq - b.seq || Number(Boolean(a.item)) - Number(Boolean(b.item)));
  const page = rows.slice(0, limit);
  const next = rows[limit];
  const last = page.at(-1);
  // With nothing left up to upTo, every commit up to it has been delivered (some may have emptied).
  let cursor = String(Math.max(since, upTo));
  let commitComplete = true;
  if (next && last) {
    // Only an items commit can hold more than one row (see repo.collectionsAfter), so `last` is an item when split.
    commitComplete = next.seq !== last.seq;
    cursor = commitComplete ? String(last.seq) : `${last.seq}.${last.item!.id}`;
  }
  return {
    collections: page.flatMap((row) => (row.collection ? [collectionView(row.collection)] : [])),
    items: await withBlobs(deps, accountId, page.flatMap((row) => (row.item ? [row.item] : []))),
    cursor,
    hasMore: next !== undefined,
    commitComplete,
  };
}

// ---- trash retention ----

/** Turns items trashed longer than the retention period into tombstones and deletes their blobs. */
export async function purgeExpiredTrash(deps: Deps, batch = 200) {
  const expired = await repo.expiredTrash(deps.db, deps.clock.now() - deps.config.trashRetentionMs, batch);
  let purged = 0;
  for (const row of expired) {
    try {
      await applyChanges(deps, row.accountId, [{ op: 'delete', itemId: row.id, baseVersion: row.version }]);
      purged++;
    } catch (err) {
      // Restored or changed since we looked: the next run will see its new state.
      if (!(err instanceof AppError && err.code === 'version_conflict')) throw err;
    }
  }
  if (purged) deps.log.info('trash purged', { items: purged });
  return purged;
}

// ---- export (src/features/export): pages in primary-key order, so memory stays at one page ----

export async function exportCollectionsPage(deps: Deps, accountId: string, afterId: string, limit: number) {
  const rows = await repo.collectionsPage(deps.db, accountId, afterId, limit);
  return rows.map(collectionView);
}

export async function exportItemsPage(deps: Deps, accountId: string, afterId: string, limit: number) {
  const rows = await repo.itemsPage(deps.db, accountId, afterId, limit);
  return rows.map((row) => ({
    id: row.id,
    collectionId: row.collectionId,
    version: row.version,
    state: row.state,
    wrappedKey: row.wrappedKey,
    encryptedMetadata: row.encryptedMetadata,
    blobId: row.blobId,
    trashedAt: row.trashedAt,
    seq: row.changeSeq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }));
}

// ---- deletion (src/features/deletion): purges that go now, and the tombstone window ----

export interface PurgePlan {
  /** The write that turns the items into tombstones (and drops collections), for one atomic(). */
  statements: Statement[];
  /** Blobs the write lets go of: pass them to finishPurge once it has committed. */
  blobIds: string[];
  counts: { items: number; collections: number; blobs: number; bytes: number };
}

async function blobTotals(deps: Deps, accountId: string, blobIds: string[]) {
  const sizes = await committedBlobs(deps, accountId, blobIds);
  return { blobs: blobIds.length, bytes: [...sizes.values()].reduce((sum, b) => sum + b.size, 0) };
}

/**
 * One item, purged now rather than trashed. The version guard aborts the write if a sync write
 * moved the item on since it was read (the caller reads again), so the blob detached is always
 * the one the item holds at commit.
 */
export async function planItemPurge(deps: Deps, accountId: string, itemId: string): Promise<PurgePlan & { collectionId: string }> {
  const [row] = await repo.findItems(deps.db, accountId, [itemId]);
  if (!row || row.state === 'deleted') throw notFound('item');
  const blobIds = row.blobId ? [row.blobId] : [];
  return {
    collectionId: row.collectionId,
    statements: [
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      repo.guardItem(accountId, itemId, row.version, ['live', 'trashed']),
      ...(row.blobId ? detachBlob(deps, accountId, row.blobId) : []),
      repo.updateItem(deps.db, accountId, itemId, tombstone, deps.clock.now()),
    ],
    blobIds,
    counts: { items: 1, collections: 0, ...(await blobTotals(deps, accountId, blobIds)) },
  };
}

/**
 * Whole collections: every item becomes a tombstone (so other devices learn of it) and the
 * collection row goes. Each collection's item signature is read before its items and guarded in
 * the write, so an item created, changed or given another blob meanwhile aborts the write
 * instead of escaping the purge or losing a blob that a live item now holds.
 */
export async function planCollectionsPurge(deps: Deps, accountId: string, collectionIds: string[]): Promise<PurgePlan> {
  const signatures = await Promise.all(collectionIds.map((id) => repo.readItemsSignature(deps.db, accountId, id)));
  const rows = await repo.liveItemsOf(deps.db, accountId, collectionIds);
  const blobIds = rows.flatMap((r) => (r.blobId ? [r.blobId] : []));
  const now = deps.clock.now();
  return {
    statements: [
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      ...collectionIds.map((id, i) => repo.guardItemsSignature(accountId, id, signatures[i]!)),
      ...detachBlobs(deps, accountId, blobIds),
      ...collectionIds.flatMap((id) => [repo.tombstoneCollectionItems(deps.db, accountId, id, now), repo.deleteCollection(deps.db, accountId, id)]),
    ],
    blobIds,
    counts: { items: rows.length, collections: collectionIds.length, ...(await blobTotals(deps, accountId, blobIds)) },
  };
}

/** After a purge committed: deletes the blobs it freed (those no other item took meanwhile). */
export const finishPurge = (deps: Deps, accountId: string, blobIds: string[]) => releaseBlobs(deps, accountId, blobIds);

export const collectionExists = async (deps: Deps, accountId: string, collectionId: string) =>
  (await repo.findCollection(deps.db, accountId, collectionId)) !== undefined;

export const collectionsOfKind = async (deps: Deps, accountId: string, kind: string) =>
  (await repo.collectionsOfKind(deps.db, accountId, kind)).map((r) => r.id);

/** Rows the account holds in sync, for an account deletion's receipt. */
export const syncCounts = (deps: Deps, accountId: string) => repo.countsOf(deps.db, accountId);

/**
 * Forgets tombstones older than the tombstone window. The account's purged-through mark is raised
 * before its tombstones go, so a crash between the two can only make a client resync needlessly,
 * never miss a deletion: a cursor older than the mark gets cursor_expired (changesSince).
 */
export async function purgeOldTombstones(deps: Deps, batch = 200) {
  const before = deps.clock.now() - deps.config.tombstoneRetentionMs;
  let tombstones = 0;
  const due = await repo.oldTombstones(deps.db, before, batch);
  for (const { accountId, through } of due) {
    await repo.raisePurgedThrough(deps.db, accountId, Number(through));
    tombstones += changedRows(await repo.deleteTombstonesThrough(deps.db, accountId, Number(through), before));
  }
  if (tombstones) deps.log.info('tombstones purged', { accounts: due.length, tombstones });
  return { accounts: due.length, tombstones };
}

/**
 * A client whose cursor is older than the newest purged tombstone can no longer learn of that
 * deletion: it must resync from 0 (the start, always allowed) and drop what the server no longer lists.
 */
async function assertCursorKept(deps: Deps, accountId: string, since: number, afterItemId?: string) {
  if (since === 0) return;
  const through = await repo.readPurgedThrough(deps.db, accountId);
  if (since < through || (since === through && afterItemId !== undefined)) {
    throw new AppError(
      'cursor_expired',
      'this cursor is older than the deletions the server still remembers; resync from the start (since=0) and drop items the server no longer lists',
    );
  }
}
