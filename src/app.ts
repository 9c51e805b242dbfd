import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Deps } from './deps.js';
import { accountRoutes } from './features/accounts/routes.js';
import { authRoutes } from './features/auth/routes.js';
import { auditRoutes } from './features/audit/routes.js';
import { blobRoutes } from './features/blobs/routes.js';
import { childrenRoutes } from './features/children/routes.js';
import { guardianConsent } from './features/children/service.js';
import { findRoutes } from './features/find/routes.js';
import { setFindEnabled } from './features/find/service.js';
import { consentRoutes } from './features/consents/routes.js';
import type { ConsentActions } from './features/consents/service.js';
import { purgeKind } from './features/deletion/service.js';
import { deletionRoutes, refuseDeletedAccountIds } from './features/deletion/routes.js';
import { policyRoutes } from './features/policy/routes.js';
import { pushRoutes } from './features/push/routes.js';
import { simRoutes } from './features/sim/routes.js';
import { messageRoutes } from './features/messages/routes.js';
import { dropQueueStatement } from './features/messages/service.js';
import { messagingRoutes } from './features/messaging/routes.js';
import { turnMessagingOff, type MessagingActions } from './features/messaging/service.js';
import { spamRoutes } from './features/spam/routes.js';
import { webRoutes } from './features/web-page/routes.js';
import { mapArchiveRoutes } from './features/map-archive/routes.js';
import { mapArchivePageConfig } from './features/map-archive/service.js';
import { receiptRoutes } from './features/receipts/routes.js';
import { personalDataRoutes } from './features/personal-data/routes.js';
import { deviceRoutes } from './features/devices/routes.js';
import { diagnosticsRoutes } from './features/diagnostics/routes.js';
import { exportRoutes } from './features/export/routes.js';
import { syncRoutes } from './features/sync/routes.js';
import { requireDevice } from './features/devices/middleware.js';
import { requireSession } from './features/sessions/middleware.js';
import { sessionRoutes } from './features/sessions/routes.js';
import { createThrottles } from './features/throttles/service.js';
import { rateLimits } from './features/throttles/middleware.js';
import { rateBucketOf } from './features/throttles/policy.js';
import { API_DESCRIPTION, registerSecuritySchemes } from './http/api-description.js';
import { docsRoutes } from './http/docs-page.js';
import type { AppEnv } from './http/env.js';
import { errorResponse, handleError } from './http/errors.js';
import { clientAddress, type DefaultHeadersOf, limitBody, requestId, securityHeaders } from './http/middleware.js';
import { durableWrites } from './http/durability.js';
import { createRouter } from './http/router.js';
import { jsonResponse, registerErrorSchemas, withMiddlewareErrors } from './http/openapi.js';

export interface AppOptions {
  /** The peer address as the runtime sees it; Node and Workers each supply their own. */
  peerAddress?: (c: Context<AppEnv>) => string | undefined;
  /** Where the runtime takes headers for a response before it exists (Node): the common headers go there. */
  defaultHeaders?: DefaultHeadersOf;
}

export const API_INFO = {
  title: 'homing',
  version: '0.1.0',
  description: API_DESCRIPTION,
};

/** Builds the whole service from its dependencies. Imports nothing runtime-specific. */
export function createApp(deps: Deps, options: AppOptions = {}) {
  const app = createRouter();
  const throttles = createThrottles(deps);

  app.use('*', requestId(deps, options.defaultHeaders));
  app.use('*', securityHeaders(deps.config.publicOrigin, options.defaultHeaders));
  // Inside the security headers, so a failed commit's error gets them; outside everything that writes.
  app.use('*', durableWrites(deps));
  app.use('*', clientAddress(deps, options.peerAddress ?? (() => undefined)));
  app.use('*', limitBody(deps));

  // Which credential each part of the API takes, in one place. A pattern ending in /* also
  // covers the bare path. Everything else (sign-up, challenge, login, docs) is public.
  const session = requireSession(deps);
  for (const path of ['/v1/account/*', '/v1/auth/session', '/v1/auth/logout', '/v1/auth/reauthenticate', '/v1/sessions/*', '/v1/devices/*', '/v1/sync/*', '/v1/blobs/*', '/v1/uploads/*', '/v1/push/subscriptions/*', '/v1/map/*']) {
    app.use(path, session);
  }
  app.use('/v1/device/*', requireDevice(deps));
  // After the credentials, so each bucket counts the account or device it names.
  app.use('*', rateLimits(throttles));
  // Before sign-up's handler: a deleted account's id is never given out again.
  app.use('/v1/accounts', refuseDeletedAccountIds(deps));

  app.route('/', authRoutes(deps, throttles));
  // Children build on accounts, so sign-up's guardian step is handed in rather than imported.
  app.route('/', accountRoutes(deps, throttles, guardianConsent(deps, throttles)));
  app.route('/', childrenRoutes(deps, throttles));
  app.route('/', personalDataRoutes(deps, throttles));
  app.route('/', sessionRoutes(deps));
  app.route('/', deviceRoutes(deps));
  app.route('/', syncRoutes(deps));
  app.route('/', blobRoutes(deps));
  app.route('/', findRoutes(deps, throttles));
  app.route('/', auditRoutes(deps));
  app.route('/', simRoutes(deps, throttles));
  app.route('/', spamRoutes(deps));
  app.route('/', messageRoutes(deps, throttles));
  app.route('/', messagingRoutes(deps, throttles, messagingActions));
  app.route('/', pushRoutes(deps));
  app.route('/', receiptRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', consentRoutes(deps, consentActions));
  app.route('/', diagnosticsRoutes(deps));
  app.route('/', exportRoutes(deps));
  app.route('/', deletionRoutes(deps, throttles));
  app.route('/', mapArchiveRoutes(deps));
  // The page is told of the street map by the map feature, which it does not import.
  app.route('/', webRoutes({ config: { ...deps.config, mapArchive: mapArchivePageConfig(deps.config.map) }, staticFiles: deps.staticFiles }));

  registerSecuritySchemes(app.openAPIRegistry);
  registerErrorSchemas(app.openAPIRegistry);
  const openApiDocument = () =>
    withMiddlewareErrors(app.getOpenAPI31Document({ openapi: '3.1.0', info: API_INFO, servers: [{ url: deps.config.publicOrigin }] }), {
      rateLimited: (method, path) => rateBucketOf(method, path) !== undefined,
    });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  // The reference that draws it, in the browser (Redoc).
  app.route('/', docsRoutes(deps.staticFiles));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['Operations'],
      summary: 'Liveness check',
      responses: { 200: jsonResponse(z.object({ ok: z.boolean() }).openapi('Health'), 'The process is serving') },
    }),
    (c) => c.json({ ok: true }, 200),
  );

  app.notFound((c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError(deps.log));
  return app;
}

/**
 * Consents are enforced by find, sync and the rest, so the consent feature cannot import them
 * back: what its routes need of them (Find Device's switch, deleting a data kind) comes in here.
 */
/** The message queue depends on messaging identities, so messaging gets the queue's drop from here. */
const messagingActions: MessagingActions = { dropQueue: dropQueueStatement };

const consentActions: ConsentActions = {
  setFindEnabled: (deps, { accountId, deviceId, enabled, actor }) => setFindEnabled(deps, accountId, deviceId, enabled, actor),
  purgeKind,
  setMessagingOff: (deps, { accountId, deviceId, actor }) => turnMessagingOff(deps, messagingActions, { accountId, deviceId }, actor),
};

export type App = ReturnType<typeof createApp>;
