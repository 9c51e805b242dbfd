import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  diagnosticsAccepted,
  diagnosticsDeleted,
  diagnosticsPage as diagnosticsPageSchema,
  diagnosticsQuery,
  diagnosticsReportBody,
  REPORT_MAX_DEPTH,
  REPORT_MAX_NODES,
} from '../../protocol/api/diagnostics.js';
import { measuredBody } from './measured-body.js';
import { deleteOwnDiagnostics, diagnosticsPage, fileReport } from './service.js';

const FILING =
  `Accepted only with consent: crash needs "diagnostics", usage needs "experience" (both off by default); otherwise 403 consent_required and nothing is stored. ` +
  `At most DIAGNOSTICS_MAX_BYTES (413 payload_too_large, counted on the bytes received), nested at most ${REPORT_MAX_DEPTH} deep with at most ${REPORT_MAX_NODES} keys and entries. ` +
  'Stored without the client address, for DIAGNOSTICS_RETENTION_DAYS; the server keeps what the app sends, so the app must send no content, contact details or addresses.';

export function diagnosticsRoutes(deps: Deps) {
  const router = createRouter();
  const tags = ['Diagnostics'];
  const limit = measuredBody(() => deps.config.diagnosticsMaxBytes);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/diagnostics',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Send a crash report or usage events from the phone',
      description: FILING,
      middleware: [limit] as const,
      request: { body: jsonBody(diagnosticsReportBody) },
      responses: { 201: jsonResponse(diagnosticsAccepted, 'Stored'), ...errorResponses(403) },
    }),
    async (c) => {
      const { accountId, deviceId } = c.get('device');
      return c.json(await fileReport(deps, { accountId, deviceId }, c.req.valid('json')), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/diagnostics',
      tags,
      security: SESSION_SECURITY,
      summary: "Send a crash report or usage events from the web page (the session's own)",
      description: FILING,
      middleware: [limit] as const,
      request: { body: jsonBody(diagnosticsReportBody) },
      responses: { 201: jsonResponse(diagnosticsAccepted, 'Stored'), ...errorResponses(403) },
    }),
    async (c) => c.json(await fileReport(deps, { accountId: c.get('session').accountId }, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/diagnostics',
      tags,
      security: SESSION_SECURITY,
      summary: "This account's crash reports and usage events, newest first",
      request: { query: diagnosticsQuery },
      responses: { 200: jsonResponse(diagnosticsPageSchema, 'A page of reports') },
    }),
    async (c) => c.json(await diagnosticsPage(deps, c.get('session').accountId, c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/account/diagnostics',
      tags,
      security: SESSION_SECURITY,
      summary: "Delete every crash report and usage event of this account",
      description: 'Answers with a signed deletion receipt (scope diagnostics); the audit log records it.',
      responses: { 200: jsonResponse(diagnosticsDeleted, 'Deleted') },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await deleteOwnDiagnostics(deps, { accountId, sessionId }), 200);
    },
  );

  return router;
}
