import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { blocklistDelta, blocklistQuery, reportIdParam, spamReport, spamReportBody, spamReportList } from '../../protocol/api/spam.js';
import { blocklistSince, listSpamReports, reportSpam, withdrawSpamReport } from './service.js';

export function spamRoutes(deps: Deps) {
  const router = createRouter();
  const tags = ['Spam reports'];

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/spam-reports',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Report a number as spam, with the message text only if the user chose to include it',
      description:
        'One report per account per number: reporting the same number again (from any device of the account) replaces the first. The text is turned into a similarity fingerprint and dropped.',
      request: { body: jsonBody(spamReportBody) },
      responses: { 201: jsonResponse(spamReport, 'Recorded'), ...errorResponses(404) },
    }),
    async (c) => c.json(await reportSpam(deps, c.get('device'), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/spam-reports',
      tags,
      security: DEVICE_SECURITY,
      summary: "The account's own spam reports, newest first",
      responses: { 200: jsonResponse(spamReportList, 'The reports') },
    }),
    async (c) => c.json(await listSpamReports(deps, c.get('device').accountId), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/device/spam-reports/{reportId}',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Withdraw a spam report',
      description: 'It stops counting towards the blocklist at the next publishing pass.',
      request: { params: reportIdParam },
      responses: { 204: { description: 'Withdrawn' }, ...errorResponses(404) },
    }),
    async (c) => {
      await withdrawSpamReport(deps, c.get('device').accountId, c.req.valid('param').reportId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/spam/blocklist',
      tags,
      security: DEVICE_SECURITY,
      summary: 'The spam blocklist, as changes since the version the device has',
      description:
        'Numbers and text fingerprints reported by enough accounts (SPAM_MIN_ACCOUNTS) within SPAM_WINDOW_DAYS. The phone matches incoming messages against it itself; the answer names no reporter and no time.',
      request: { query: blocklistQuery },
      responses: { 200: jsonResponse(blocklistDelta, 'The changes') },
    }),
    async (c) => c.json(await blocklistSince(deps, c.req.valid('query').since), 200),
  );

  return router;
}
