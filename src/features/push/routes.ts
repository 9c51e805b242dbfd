import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { pushSubscription, pushSubscriptionBody, pushSubscriptionList, subscriptionIdParam, vapidKey } from '../../protocol/api/push.js';
import { listSubscriptions, registerDevicePush, registerSessionPush, removeDevicePush, removeSubscription } from './service.js';

const ENDPOINT_RULE =
  'The endpoint must be https on a public address: localhost and literal loopback, private and link-local addresses are refused (unless the server allows insecure endpoints for development).';

export function pushRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/push/vapid-key',
      tags: ['Push'],
      summary: "The server's VAPID public key",
      description: "Pass it as applicationServerKey to PushManager.subscribe(); every push this server sends is signed with it (RFC 8292).",
      responses: { 200: jsonResponse(vapidKey, 'The key') },
    }),
    (c) => c.json({ publicKey: deps.push.vapidPublicKey }, 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/device/push',
      tags: ['Push'],
      summary: "Register or replace this device's push subscription",
      description: `Web Push (RFC 8030, RFC 8291 keys), e.g. from a UnifiedPush distributor. A push names only what to fetch. ${ENDPOINT_RULE}`,
      security: DEVICE_SECURITY,
      request: { body: jsonBody(pushSubscriptionBody) },
      responses: { 200: jsonResponse(pushSubscription, 'Registered'), ...errorResponses(409) },
    }),
    async (c) => c.json(await registerDevicePush(deps, c.get('device'), c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/device/push',
      tags: ['Push'],
      summary: "Remove this device's push subscription",
      description: 'The device falls back to long-polling. Answers 204 whether or not it had one.',
      security: DEVICE_SECURITY,
      responses: { 204: { description: 'Removed' } },
    }),
    async (c) => {
      await removeDevicePush(deps, c.get('device'));
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/push/subscriptions',
      tags: ['Push'],
      summary: "This account's push subscriptions",
      description: 'Endpoints are capability URLs and are never shown; only their push service.',
      security: SESSION_SECURITY,
      responses: { 200: jsonResponse(pushSubscriptionList, 'Subscriptions') },
    }),
    async (c) => c.json({ subscriptions: await listSubscriptions(deps, c.get('session').accountId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/push/subscriptions',
      tags: ['Push'],
      summary: 'Subscribe this browser or app to pushes for the account',
      description: `Bound to this session: logging out or revoking the session ends it. Registering the same endpoint again replaces its keys. ${ENDPOINT_RULE}`,
      security: SESSION_SECURITY,
      request: { body: jsonBody(pushSubscriptionBody) },
      responses: { 201: jsonResponse(pushSubscription, 'Subscribed'), ...errorResponses(409) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await registerSessionPush(deps, { accountId, sessionId }, c.req.valid('json')), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/push/subscriptions/{subscriptionId}',
      tags: ['Push'],
      summary: 'Remove one of the account’s push subscriptions',
      security: SESSION_SECURITY,
      request: { params: subscriptionIdParam },
      responses: { 204: { description: 'Removed' }, ...errorResponses(404) },
    }),
    async (c) => {
      await removeSubscription(deps, c.get('session').accountId, c.req.valid('param').subscriptionId);
      return c.body(null, 204);
    },
  );

  return router;
}
