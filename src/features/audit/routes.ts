import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { jsonResponse } from '../../http/openapi.js';
import { auditLogPage, auditQuery } from '../../protocol/api/audit.js';
import { auditPage } from './service.js';

export function auditRoutes(deps: Deps) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/audit',
      tags: ['Accounts'],
      security: SESSION_SECURITY,
      summary: 'What was done with this account (newest first, paged)',
      description:
        'Logins and failed logins, devices added and removed, sessions revoked, password and other account changes, location viewings (one entry per viewing, not per poll), commands with their type, SIM events, exports, consents and deletions. Kept for AUDIT_RETENTION_DAYS.',
      request: { query: auditQuery },
      responses: { 200: jsonResponse(auditLogPage, 'One page of entries') },
    }),
    async (c) => c.json(await auditPage(deps, c.get('session').accountId, c.req.valid('query')), 200),
  );
  return router;
}
