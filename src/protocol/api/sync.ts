import { z } from 'zod';
import { id, sealedKey, timestamp } from './common.js';

export const BUILT_IN_KINDS = ['contacts', 'messages', 'photos', 'screenshots', 'notes', 'calendar', 'email', 'files'] as const;
export const MAX_METADATA_CHARS = 87_384; // 64 KiB of ciphertext in base64url
export const MAX_BATCH_CHANGES = 500;

export const kind = z
  .string()
  .regex(
    new RegExp(`^(${BUILT_IN_KINDS.join('|')}|custom:[a-z0-9-]{1,32})$`),
    `must be one of ${BUILT_IN_KINDS.join(', ')}, or custom:<name> with a-z, 0-9 and -`,
  )
  .meta({ example: 'contacts' });

const ciphertext = (description: string) =>
  z
    .string()
    .min(1)
    .max(MAX_METADATA_CHARS)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding')
    .meta({ description });

const version = z.number().int().min(1).meta({ description: 'The version the client last saw', example: 1 });
const blobId = id('A committed blob of this account, from PUT /v1/blobs or a completed upload');

export const createCollectionBody = z
  .strictObject({
    id: id('Chosen by the client (16 random bytes); bound into the AD of everything in it'),
    kind,
    wrappedKey: sealedKey('Collection key sealed by the master key'),
    encryptedMetadata: ciphertext('Collection metadata (name, settings), sealed by the collection key'),
  })
  .meta({ id: 'CreateCollectionRequest' });

export const updateCollectionBody = z
  .strictObject({ baseVersion: version, encryptedMetadata: ciphertext('New sealed metadata') })
  .meta({ id: 'UpdateCollectionRequest' });

export const collection = z
  .object({
    id: z.string(),
    kind: z.string(),
    wrappedKey: z.string(),
    encryptedMetadata: z.string(),
    version: z.number().int(),
    seq: z.number().int(),
    createdAt: timestamp('Created'),
    updatedAt: timestamp('Last changed'),
  })
  .meta({ id: 'Collection' });

const itemId = id('Chosen by the client (16 random bytes)');

export const itemChange = z
  .discriminatedUnion('op', [
    z.strictObject({
      op: z.literal('create'),
      itemId,
      collectionId: id('The collection it belongs to'),
      wrappedKey: sealedKey('Item key sealed by the collection key'),
      encryptedMetadata: ciphertext('Item metadata sealed with AD = account‖collection‖item‖version (version 1)'),
      blobId: blobId.optional(),
    }),
    z.strictObject({
      op: z.literal('update'),
      itemId,
      baseVersion: version,
      wrappedKey: sealedKey('Item key, if it changed').optional(),
      encryptedMetadata: ciphertext('Item metadata sealed for version baseVersion + 1'),
      blobId: blobId.nullable().optional().meta({ description: 'A new blob, null to drop the blob, absent to keep it' }),
    }),
    z.strictObject({ op: z.literal('trash'), itemId, baseVersion: version }),
    z.strictObject({ op: z.literal('restore'), itemId, baseVersion: version }),
    z.strictObject({ op: z.literal('delete'), itemId, baseVersion: version }),
  ])
  .meta({ id: 'ItemChange' });

export const applyChangesBody = z
  .strictObject({ changes: z.array(itemChange).min(1).max(MAX_BATCH_CHANGES) })
  .meta({ id: 'ApplyChangesRequest' });

export const item = z
  .object({
    id: z.string(),
    collectionId: z.string(),
    version: z.number().int(),
    state: z.enum(['live', 'trashed', 'deleted']).meta({ description: 'deleted = tombstone: no key, metadata or blob' }),
    wrappedKey: z.string().nullable(),
    encryptedMetadata: z.string().nullable(),
    blob: z.object({ id: z.string(), size: z.number().int(), sha256: z.string() }).nullable(),
    trashedAt: timestamp('Moved to trash').nullable(),
    seq: z.number().int(),
    updatedAt: timestamp('Last changed'),
  })
  .meta({ id: 'Item' });

export const applyChangesResponse = z
  .object({ seq: z.number().int(), items: z.array(item) })
  .meta({ id: 'ApplyChangesResponse' });

/**
 * A delta-sync cursor: `<seq>` once every commit up to seq is delivered, or `<seq>.<itemId>` when a
 * page ended inside commit seq, after that item (items of a commit go in id order). Clients treat
 * it as opaque and pass it back.
 */
export const SYNC_CURSOR = /^(0|[1-9][0-9]{0,15})(?:\.([A-Za-z0-9_-]{22}))?$/;

export const changesQuery = z.object({
  since: z
    .string()
    .regex(SYNC_CURSOR, 'must be a cursor from an earlier page, or 0')
    .default('0')
    .meta({ description: 'Cursor from the previous page; 0 for everything' }),
  limit: z.coerce.number().int().min(1).max(1000).default(200).meta({ description: 'Most rows (collections and items) in the page' }),
});

export const changesResponse = z
  .object({
    collections: z.array(collection),
    items: z.array(item),
    cursor: z.string().meta({ description: 'Pass as since= for the next page (opaque)' }),
    hasMore: z.boolean(),
    commitComplete: z.boolean().meta({
      description:
        'false when the page ends inside a commit (one batch held more changes than limit): the next pages hold the rest of it. A client that must never show half a batch holds these changes until a page with commitComplete true.',
    }),
  })
  .meta({ id: 'ChangesPage' });
