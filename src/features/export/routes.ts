import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses } from '../../http/openapi.js';
import { exportAccount } from './service.js';

export function exportRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/export',
      tags: ['Accounts'],
      summary: 'Download everything the account has, as one streamed ZIP',
      description:
        'A ZIP of stored entries (src/protocol/api/export.ts, docs/OPERATIONS.md): the account record with the e-mail and phone number opened, devices, sessions, consents, collections and items (ciphertext and wrapped keys), every blob as stored, sealed locations, commands, SIM events, the audit log, diagnostics and receipts, then manifest.json with each entry\'s size and SHA-256. An archive without the manifest was cut off. Needs a session that proved the password within the last 5 minutes (POST /v1/auth/reauthenticate); a few exports a day per account.',
      security: SESSION_SECURITY,
      responses: {
        200: {
          description: 'The archive, streamed',
          headers: {
            'Content-Disposition': { description: 'attachment; filename="homing-export-<date>.zip"', schema: { type: 'string' } },
          },
          content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { stream, filename } = await exportAccount(deps, c.get('session'), c.get('requestId'));
      return c.body(stream, 200, {
        'Content-Type': 'application/zip',
        'Content-Disposition': `attachment; filename="${filename}"`,
        'Cache-Control': 'no-store',
      });
    },
  );

  return router;
}
