import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { id } from '../../protocol/api/common.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  applyChangesBody,
  applyChangesResponse,
  changesQuery,
  changesResponse,
  collection,
  createCollectionBody,
  item,
  SYNC_CURSOR,
  updateCollectionBody,
} from '../../protocol/api/sync.js';
import { applyChanges, changesSince, createCollection, getItem, listCollections, updateCollection } from './service.js';

export function syncRoutes(deps: Deps) {
  const router = createRouter();
  const tags = ['Sync'];
  const security = SESSION_SECURITY;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sync/collections',
      tags,
      security,
      summary: "This account's collections",
      responses: {
        200: jsonResponse(z.object({ collections: z.array(collection) }).openapi('CollectionList'), 'Collections'),
      },
    }),
    async (c) => c.json({ collections: await listCollections(deps, c.get('session').accountId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sync/collections',
      tags,
      security,
      summary: 'Create a collection of one data kind',
      request: { body: jsonBody(createCollectionBody) },
      responses: { 201: jsonResponse(collection, 'Created'), ...errorResponses(409) },
    }),
    async (c) => c.json(await createCollection(deps, c.get('session').accountId, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/sync/collections/{collectionId}',
      tags,
      security,
      summary: "Replace a collection's sealed metadata",
      request: { params: z.object({ collectionId: id('Collection id') }), body: jsonBody(updateCollectionBody) },
      responses: { 200: jsonResponse(collection, 'Updated'), ...errorResponses(404, 409) },
    }),
    async (c) =>
      c.json(await updateCollection(deps, c.get('session').accountId, c.req.valid('param').collectionId, c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sync/changes',
      tags,
      security,
      summary: 'Apply a batch of item changes atomically',
      description:
        'Create, update, trash, restore or delete items. Every change but create names the version it was made against. If any change is stale, nothing is written and the 409 lists the current versions (error.details.conflicts). The batch is one commit with one sequence number.',
      request: { body: jsonBody(applyChangesBody) },
      responses: { 200: jsonResponse(applyChangesResponse, 'Applied'), ...errorResponses(404, 409) },
    }),
    async (c) => c.json(await applyChanges(deps, c.get('session').accountId, c.req.valid('json').changes), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sync/changes',
      tags,
      security,
      summary: 'Changes since a cursor',
      description:
        'Collections and items (tombstones included) changed after `since`, in commit order; within a commit, items in id order. Tombstones are kept for TOMBSTONE_RETENTION_DAYS: a cursor older than the newest one purged answers 410 cursor_expired, and the client resyncs from since=0 and drops the items the server no longer lists. A page holds at most `limit` rows: a commit with more is split across pages, and every page but its last says commitComplete: false (the cursor then points inside the commit). Repeat with the returned cursor while hasMore is true: no change is skipped or sent twice at the same version.',
      request: { query: changesQuery },
      responses: { 200: jsonResponse(changesResponse, 'A page of changes'), ...errorResponses(410) },
    }),
    async (c) => {
      const { since, limit } = c.req.valid('query');
      const [, seq, afterItemId] = SYNC_CURSOR.exec(since)!;
      return c.json(await changesSince(deps, c.get('session').accountId, Number(seq), limit, afterItemId), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sync/items/{itemId}',
      tags,
      security,
      summary: 'One item',
      request: { params: z.object({ itemId: id('Item id') }) },
      responses: { 200: jsonResponse(item, 'The item'), ...errorResponses(404) },
    }),
    async (c) => c.json(await getItem(deps, c.get('session').accountId, c.req.valid('param').itemId), 200),
  );

  return router;
}
