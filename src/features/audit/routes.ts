import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { timestamp } from '../../protocol/api/common.js';
import { jsonResponse } from '../../http/openapi.js';
import { recentAudit } from './service.js';

const entry = z
  .object({
    id: z.string(),
    at: timestamp('When'),
    action: z.string().openapi({ example: 'location.read' }),
    deviceId: z.string().nullable(),
    sessionId: z.string().nullable(),
  })
  .openapi('AuditEntry');

export function auditRoutes(deps: Deps) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/audit',
      tags: ['Accounts'],
      security: SESSION_SECURITY,
      summary: 'What was done with this account’s sensitive data (newest first)',
      responses: { 200: jsonResponse(z.object({ entries: z.array(entry) }).openapi('AuditLog'), 'Entries') },
    }),
    async (c) => c.json({ entries: await recentAudit(deps, c.get('session').accountId) }, 200),
  );
  return router;
}
