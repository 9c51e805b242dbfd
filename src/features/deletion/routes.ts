import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import type { AppEnv } from '../../http/env.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { accountDeletionBody, accountDeletionStatus, purgeBody, purgeResponse } from '../../protocol/api/deletion.js';
import type { Throttles } from '../throttles/service.js';
import { actorOf, cancelAccountDeletion, getAccountDeletion, isTombstoned, purge, requestAccountDeletion } from './service.js';

export function deletionRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const tags = ['Deletion'];
  const security = SESSION_SECURITY;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/purge',
      tags,
      security,
      summary: 'Delete part of the account now, with a signed receipt',
      description:
        'Deletes at once, without trash: one item (its wrapped key, metadata and blob; a tombstone tells other devices), a collection with every item in it, every collection of a data kind, or a device with its locations, commands, SIM events, push subscriptions, sessions and diagnostics (its audit entries stay without the device id). Answers a receipt signed with the server key (GET /v1/receipts/key) and records data.deleted in the audit log. Someone else\'s item, collection or device answers 404 like one that does not exist.',
      request: { body: jsonBody(purgeBody) },
      responses: { 200: jsonResponse(purgeResponse, 'Deleted; the receipt'), ...errorResponses(404, 409) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const receipt = await purge(deps, accountId, c.req.valid('json').scope, await actorOf(deps, sessionId));
      return c.json({ receipt }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/deletion',
      tags,
      security,
      summary: 'Schedule the deletion of the whole account',
      description:
        'Needs a fresh login challenge signed with the password or the recovery key (like POST /v1/account/password). The account is purged after the grace period (DELETION_GRACE_DAYS, 7 by default) and the owner is e-mailed what happens, when, and how to cancel. Asking again changes nothing.',
      request: { body: jsonBody(accountDeletionBody) },
      responses: { 200: jsonResponse(accountDeletionStatus, 'Scheduled'), ...errorResponses(429) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const deletion = await requestAccountDeletion(deps, throttles, { accountId, sessionId }, c.req.valid('json').proof, {
        clientAddress: c.get('clientAddress'),
      });
      return c.json({ deletion }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/deletion',
      tags,
      security,
      summary: 'The scheduled deletion of this account, if any',
      responses: { 200: jsonResponse(accountDeletionStatus, 'The deletion, or null') },
    }),
    async (c) => c.json({ deletion: await getAccountDeletion(deps, c.get('session').accountId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/account/deletion',
      tags,
      security,
      summary: 'Cancel the scheduled deletion',
      description:
        'Logging in and saying so cancels it until the purge begins (409 after that). A deletion a child\'s guardian asked for cannot be cancelled by the child (403). The owner is e-mailed a confirmation.',
      responses: { 204: { description: 'Cancelled' }, ...errorResponses(403, 404, 409) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      await cancelAccountDeletion(deps, { accountId, sessionId });
      return c.body(null, 204);
    },
  );

  return router;
}

/**
 * Sign-up refuses the id of a deleted account: its receipts name it, so it is never given to
 * anyone else. Runs before the sign-up route (which validates the body itself); a body it cannot
 * read is left for that route to refuse.
 */
export function refuseDeletedAccountIds(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const body = await c.req.json().catch(() => undefined);
      const accountId = (body as { accountId?: unknown } | undefined)?.accountId;
      if (typeof accountId === 'string' && (await isTombstoned(deps, accountId))) {
        throw new AppError('conflict', 'an account with this email, phone number or id already exists');
      }
    }
    await next();
  };
}
