import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { id } from '../../protocol/api/common.js';
import { sessionList } from '../../protocol/api/sessions.js';
import { errorResponses, jsonResponse } from '../../http/openapi.js';
import { listSessions, revokeOtherSessions, revokeSession } from './service.js';


export function sessionRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sessions',
      tags: ['Sessions'],
      summary: "List this account's sessions",
      security: SESSION_SECURITY,
      responses: {
        200: jsonResponse(sessionList, 'Sessions'),
      },
    }),
    async (c) => {
      const s = c.get('session');
      return c.json({ sessions: await listSessions(deps, s.accountId, s.sessionId) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sessions/revoke-others',
      tags: ['Sessions'],
      summary: 'Sign out every other session',
      security: SESSION_SECURITY,
      responses: {
        200: jsonResponse(z.object({ revoked: z.number().int() }).openapi('RevokeOthersResponse'), 'Revoked'),
      },
    }),
    async (c) => {
      const s = c.get('session');
      return c.json({ revoked: await revokeOtherSessions(deps, s.accountId, s.sessionId) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/sessions/{sessionId}',
      tags: ['Sessions'],
      summary: 'Revoke one session',
      security: SESSION_SECURITY,
      request: { params: z.object({ sessionId: id('Session id') }) },
      responses: { 204: { description: 'Revoked' }, ...errorResponses(404) },
    }),
    async (c) => {
      const s = c.get('session');
      await revokeSession(deps, s.accountId, c.req.valid('param').sessionId, s.sessionId);
      return c.body(null, 204);
    },
  );

  return router;
}
