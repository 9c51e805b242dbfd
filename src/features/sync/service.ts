import type { z } from '@hono/zod-openapi';
import { atomic, isGuardFailure, isUniqueViolation, type Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import { attachBlob, committedBlobs, detachBlob, releaseBlobs } from '../blobs/service.js';
import * as repo from './repo.js';
import type { createCollectionBody, itemChange } from '../../protocol/api/sync.js';

export type ItemChange = z.infer<typeof itemChange>;

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

export async function createCollection(deps: Deps, accountId: string, input: z.infer<typeof createCollectionBody>) {
  const now = deps.clock.now();
  try {
    await atomic(deps.db, [
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      repo.insertCollection(deps.db, { accountId, ...input, createdAt: now, updatedAt: now }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `collection ${input.id} already exists`);
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
  try {
    await atomic(deps.db, [
      repo.guardCollectionVersion(accountId, collectionId, input.baseVersion),
      repo.advanceSeq(deps.db, accountId),
      repo.updateCollection(deps.db, accountId, collectionId, input.encryptedMetadata, deps.clock.now()),
    ]);
  } catch (err) {
    if (!isGuardFailure(err)) throw err;
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

/** The states each operation may start from. */
const FROM_STATES: Record<Exclude<ItemChange['op'], 'create'>, repo.ItemRow['state'][]> = {
  update: ['live'],
  trash: ['live'],
  restore: ['trashed'],
  delete: ['live', 'trashed'],
};

/** The blob a change makes its item take up, and the one it makes the item let go of. */
interface BlobMove {
  gained?: string;
  lost?: string;
}

/**
 * Read from the row as it was before the batch. That is safe inside the batch's atomic write:
 * its version guard (or, for a create, the primary key) aborts everything if the row has moved.
 */
function blobMove(change: ItemChange, before: repo.ItemRow | undefined): BlobMove {
  const old = before?.blobId ?? undefined;
  switch (change.op) {
    case 'create':
      return { gained: change.blobId };
    case 'update':
      return change.blobId === undefined || change.blobId === old ? {} : { gained: change.blobId ?? undefined, lost: old };
    case 'delete':
      return { lost: old };
    default:
      return {};
  }
}

function statementsFor(deps: Deps, accountId: string, change: ItemChange, move: BlobMove, now: number): Statement[] {
  const { db } = deps;
  const references = [
    ...(move.lost ? detachBlob(deps, accountId, move.lost) : []),
    ...(move.gained ? attachBlob(deps, accountId, move.gained) : []),
  ];
  if (change.op === 'create') {
    return [
      repo.guardCollectionExists(accountId, change.collectionId),
      ...references,
      repo.insertItem(db, {
        accountId,
        id: change.itemId,
        collectionId: change.collectionId,
        wrappedKey: change.wrappedKey,
        encryptedMetadata: change.encryptedMetadata,
        blobId: change.blobId ?? null,
        createdAt: now,
        updatedAt: now,
      }),
    ];
  }
  const checks = [repo.guardItem(accountId, change.itemId, change.baseVersion, FROM_STATES[change.op]), ...references];
  switch (change.op) {
    case 'update':
      return [
        ...checks,
        repo.updateItem(
          db,
          accountId,
          change.itemId,
          {
            encryptedMetadata: change.encryptedMetadata,
            ...(change.wrappedKey ? { wrappedKey: change.wrappedKey } : {}),
            ...(change.blobId !== undefined ? { blobId: change.blobId } : {}),
          },
          now,
        ),
      ];
    case 'trash':
      return [...checks, repo.updateItem(db, accountId, change.itemId, { state: 'trashed', trashedAt: now }, now)];
    case 'restore':
      return [...checks, repo.updateItem(db, accountId, change.itemId, { state: 'live', trashedAt: null }, now)];
    case 'delete':
      return [...checks, repo.updateItem(db, accountId, change.itemId, tombstone, now)];
  }
}

const tombstone = { state: 'deleted', wrappedKey: null, encryptedMetadata: null, blobId: null, trashedAt: null } as const;

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

  const before = new Map((await repo.findItems(deps.db, accountId, ids)).map((row) => [row.id, row]));
  const moves = changes.map((change) => blobMove(change, before.get(change.itemId)));
  const now = deps.clock.now();
  try {
    await atomic(deps.db, [
      repo.ensureSyncState(deps.db, accountId),
      repo.advanceSeq(deps.db, accountId),
      ...changes.flatMap((change, i) => statementsFor(deps, accountId, change, moves[i]!, now)),
    ]);
  } catch (err) {
    if (isGuardFailure(err) || isUniqueViolation(err)) throw await explainRefusal(deps, accountId, changes);
    throw err;
  }
  // Only blobs whose count reached zero go; one another item holds (in this batch or since) stays.
  await releaseBlobs(deps, accountId, moves.flatMap((move) => (move.lost ? [move.lost] : [])));
  const after = await repo.findItems(deps.db, accountId, ids);
  return { seq: await repo.readSeq(deps.db, accountId), items: await withBlobs(deps, accountId, after) };
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
