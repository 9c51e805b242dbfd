import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { ackBody, ackResponse, inboxQuery, inboxResponse, sendBody, sendResponse } from '../../protocol/api/messaging.js';
import type { Throttles } from '../throttles/service.js';
import { acknowledgeMessages, fetchInbox, sendMessage } from './service.js';

export function messageRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const tags = ['Messages'];

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/messages',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Send a message: one sealed copy per recipient device, and per own other device',
      description:
        'Needs messaging on (PUT /v1/device/messaging). Each copy waits for its device until acknowledged or MESSAGE_RETENTION_DAYS pass; the device is woken by a push. Sending again with the same messageId stores nothing new and answers the same. A copy is at most MESSAGE_MAX_BYTES decoded.',
      request: { body: jsonBody(sendBody) },
      responses: {
        202: jsonResponse(sendResponse, 'Accepted: which devices a copy waits for, and which cannot receive one'),
        ...errorResponses(403, 413, 429),
      },
    }),
    async (c) => c.json(await sendMessage(deps, throttles, c.get('device'), c.req.valid('json')), 202),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/messages',
      tags,
      security: DEVICE_SECURITY,
      summary: 'The sealed copies waiting for this device, oldest first',
      description: 'Fetching deletes nothing: acknowledge each copy once it is stored on the phone (POST /v1/device/messages/ack).',
      request: { query: inboxQuery },
      responses: { 200: jsonResponse(inboxResponse, 'Waiting copies') },
    }),
    async (c) => c.json(await fetchInbox(deps, c.get('device'), c.req.valid('query').limit), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/messages/ack',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Delete copies this device has stored',
      description: "Ids already acknowledged, expired or not this device's change nothing and are not counted.",
      request: { body: jsonBody(ackBody) },
      responses: { 200: jsonResponse(ackResponse, 'Deleted') },
    }),
    async (c) => c.json(await acknowledgeMessages(deps, c.get('device'), c.req.valid('json').ids), 200),
  );

  return router;
}
