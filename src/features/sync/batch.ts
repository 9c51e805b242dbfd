import type { z } from '@hono/zod-openapi';
import type { Statement } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import type { itemChange } from '../../protocol/api/sync.js';
import { attachBlobs, detachBlobs } from '../blobs/service.js';
import * as repo from './repo.js';

// How a batch of item changes becomes the statements of one atomic write, and its answer. A batch
// of 100 creates is one statement prepared once and run per row on Node, a handful of multi-row
// statements on D1 (never 200 statements built afresh: building and preparing SQL per item was
// most of a push's CPU), and its answer is not read back row by row.

export type ItemChange = z.infer<typeof itemChange>;

/** The states each operation may start from. */
export const FROM_STATES: Record<Exclude<ItemChange['op'], 'create'>, repo.ItemRow['state'][]> = {
  update: ['live'],
  trash: ['live'],
  restore: ['trashed'],
  delete: ['live', 'trashed'],
};

export const tombstone = { state: 'deleted', wrappedKey: null, encryptedMetadata: null, blobId: null, trashedAt: null } as const;

/** What trash, restore and delete set on an item, besides its new version and time. */
const SETS = {
  trash: (now: number) => ({ state: 'trashed', trashedAt: now }) as const,
  restore: () => ({ state: 'live', trashedAt: null }) as const,
  delete: () => tombstone,
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

interface Planned {
  change: ItemChange;
  move: BlobMove;
}

/**
 * Consecutive changes of one operation form a run. Order only matters between changes through a
 * blob: one item may take a blob only once the item holding it has let go (items_blob allows one
 * holder), and SQLite checks that row by row. Within a run no change takes a blob another change
 * of the run lets go of (creates only take, deletes and blob-keeping updates only let go), so the
 * rows of a run can go in one statement; an update that takes a blob is a run of its own, and
 * runs go in the batch's order: a batch is accepted or refused exactly as change by change.
 */
function runsOf(planned: Planned[]): Planned[][] {
  const runs: Planned[][] = [];
  const alone = (p: Planned) => p.change.op === 'update' && p.move.gained !== undefined;
  for (const p of planned) {
    const run = runs.at(-1);
    if (run && run[0]!.change.op === p.change.op && !alone(p) && !alone(run[0]!)) run.push(p);
    else runs.push([p]);
  }
  return runs;
}

const versions = (run: Planned[]) =>
  run.map(({ change }) => ({ id: change.itemId, version: 'baseVersion' in change ? change.baseVersion : 0 }));

function runStatements(deps: Deps, accountId: string, run: Planned[], now: number): Statement[] {
  const { db } = deps;
  const op = run[0]!.change.op;
  const ids = run.map(({ change }) => change.itemId);
  const references = [
    ...detachBlobs(deps, accountId, run.flatMap(({ move }) => (move.lost ? [move.lost] : []))),
    ...attachBlobs(deps, accountId, run.flatMap(({ move }) => (move.gained ? [move.gained] : []))),
  ];
  if (op === 'create') {
    const creates = run.map(({ change }) => change as Extract<ItemChange, { op: 'create' }>);
    return [
      ...[...new Set(creates.map((c) => c.collectionId))].map((id) => repo.guardCollectionExists(db, accountId, id)),
      ...references,
      repo.insertItems(
        accountId,
        creates.map((c) => ({
          id: c.itemId,
          collectionId: c.collectionId,
          wrappedKey: c.wrappedKey,
          encryptedMetadata: c.encryptedMetadata,
          blobId: c.blobId ?? null,
        })),
        now,
      ),
    ];
  }
  const checks = [...repo.guardItemVersions(accountId, FROM_STATES[op], versions(run)), ...references];
  switch (op) {
    case 'update': {
      const updates = run.map(({ change }) => change as Extract<ItemChange, { op: 'update' }>);
      const rows = updates.map((u) => ({
        id: u.itemId,
        encryptedMetadata: u.encryptedMetadata,
        wrappedKey: u.wrappedKey || null,
        setBlob: u.blobId !== undefined,
        blobId: u.blobId ?? null,
      }));
      return [...checks, repo.updateItemsContent(accountId, rows, now)];
    }
    default:
      return [...checks, ...repo.updateItems(db, accountId, ids, SETS[op](now), now)];
  }
}

/**
 * The statements that apply `changes` (after the sequence number is taken), and the blobs the
 * items let go of: pass those to releaseBlobs once the write has committed.
 */
export function batchStatements(deps: Deps, accountId: string, changes: ItemChange[], before: Map<string, repo.ItemRow>, now: number) {
  const planned = changes.map((change) => ({ change, move: blobMove(change, before.get(change.itemId)) }));
  return {
    statements: runsOf(planned).flatMap((run) => runStatements(deps, accountId, run, now)),
    released: planned.flatMap(({ move }) => (move.lost ? [move.lost] : [])),
  };
}

/**
 * The row as the change writes it (its sequence number left 0: the write takes it), or undefined
 * when the row read before the batch is not the version the change was made against.
 */
function rowAfter(accountId: string, change: ItemChange, before: repo.ItemRow | undefined, now: number): repo.ItemRow | undefined {
  if (change.op === 'create') {
    const { itemId: id, collectionId, wrappedKey, encryptedMetadata } = change;
    const fixed = { version: 1, state: 'live', trashedAt: null, changeSeq: 0, createdAt: now, updatedAt: now } as const;
    return { accountId, id, collectionId, wrappedKey, encryptedMetadata, blobId: change.blobId ?? null, ...fixed };
  }
  if (!before || before.version !== change.baseVersion) return undefined;
  const next = { ...before, version: before.version + 1, updatedAt: now };
  if (change.op !== 'update') return { ...next, ...SETS[change.op](now) };
  const blobId = change.blobId === undefined ? before.blobId : change.blobId;
  return { ...next, encryptedMetadata: change.encryptedMetadata, wrappedKey: change.wrappedKey || before.wrappedKey, blobId };
}

const byId = (a: repo.ItemRow, b: repo.ItemRow) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The batch's items as they are now that it has committed, by id. Reading the rows back cost as
 * much as writing them, so they are rebuilt from the changes where that is exact. Every write to
 * an item takes the account's next sequence number and raises the item's version: when the
 * sequence number after the commit (`seqAfter`) is just one past the one read before the batch,
 * the batch's commit was the only one, and each row is as the batch wrote it. Otherwise only the
 * versions are read, and items another commit moved on since are read whole.
 */
export async function itemsAsWritten(
  deps: Deps,
  accountId: string,
  changes: ItemChange[],
  before: Map<string, repo.ItemRow>,
  now: number,
  seq: { before: number; after: number },
) {
  const written = new Map(changes.map((change) => [change.itemId, rowAfter(accountId, change, before.get(change.itemId), now)]));
  const rows = [...written.values()];
  if (seq.after === seq.before + 1 && rows.every((row) => row !== undefined)) {
    return rows.map((row) => ({ ...row!, changeSeq: seq.after })).sort(byId);
  }
  const current = await repo.itemVersions(deps.db, accountId, [...written.keys()]);
  const moved = current.filter((row) => written.get(row.id)?.version !== row.version).map((row) => row.id);
  const reread = new Map((await repo.findItems(deps.db, accountId, moved)).map((row) => [row.id, row]));
  return current
    .flatMap((row) => {
      const mine = written.get(row.id);
      if (mine?.version === row.version) return [{ ...mine, changeSeq: row.changeSeq }];
      const whole = reread.get(row.id);
      return whole ? [whole] : [];
    })
    .sort(byId);
}
