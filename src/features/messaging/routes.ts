import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  blockBody,
  blockedNumber,
  blockList,
  lookupBody,
  lookupResponse,
  messagingIdentity,
  messagingOnBody,
  messagingStatus,
  numberParam,
} from '../../protocol/api/messaging.js';
import type { Throttles } from '../throttles/service.js';
import { blockedNumbers, blockNumber, unblockNumber } from './blocks.js';
import { lookUpNumbers } from './directory.js';
import { identityResponse, type MessagingActions, messagingStatus as statusOf, turnMessagingOff, turnMessagingOn } from './service.js';

export function messagingRoutes(deps: Deps, throttles: Throttles, actions: MessagingActions) {
  const router = createRouter();
  const tags = ['Messages'];

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/messaging',
      tags,
      security: DEVICE_SECURITY,
      summary: "This device's messaging identity, and the account's other devices with messaging on",
      responses: { 200: jsonResponse(messagingStatus, 'Messaging on this account') },
    }),
    async (c) => c.json(await statusOf(deps, c.get('device')), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/device/messaging',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Turn messaging on for a number this device verified, publishing its messaging keys',
      description:
        'The number must be the one the device’s newest SIM event verified (POST /v1/device/sim-events); 403 otherwise. Another account holding the number loses it when this verification is newer than its identity, else 409. Turning on again replaces the keys (senders see a key change). Records the consent messaging for this device.',
      request: { body: jsonBody(messagingOnBody) },
      responses: { 200: jsonResponse(messagingIdentity, 'Messaging is on'), ...errorResponses(403, 409) },
    }),
    async (c) => c.json(identityResponse(await turnMessagingOn(deps, actions, c.get('device'), c.req.valid('json'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/device/messaging',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Turn messaging off: keys, identity and every waiting copy go at once',
      description: 'Withdraws the consent messaging for this device. Answers 204 when it was already off.',
      responses: { 204: { description: 'Messaging is off' } },
    }),
    async (c) => {
      const device = c.get('device');
      await turnMessagingOff(deps, actions, device, { deviceId: device.deviceId });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/messaging/lookup',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Which devices receive messages for these numbers',
      description:
        'Only for a device with messaging on (403). An unknown number and one whose messaging is off both answer []. Each distinct number counts against the account’s MESSAGING_LOOKUPS_PER_DAY; a request that would pass it is refused whole (429, Retry-After). The numbers are neither stored nor logged.',
      request: { body: jsonBody(lookupBody) },
      responses: { 200: jsonResponse(lookupResponse, 'One result per distinct number asked'), ...errorResponses(403, 429) },
    }),
    async (c) => c.json(await lookUpNumbers(deps, throttles, c.get('device'), c.req.valid('json').numbers), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/messaging/blocks',
      tags,
      security: DEVICE_SECURITY,
      summary: "The account's blocked numbers, newest first",
      responses: { 200: jsonResponse(blockList, 'Blocked numbers, shared by every device of the account') },
    }),
    async (c) => c.json(await blockedNumbers(deps, c.get('device').accountId), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/messaging/blocks',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Block a number for every device of the account',
      description: 'Its messages are dropped without the sender knowing. Blocking it again answers the same block.',
      request: { body: jsonBody(blockBody) },
      responses: { 201: jsonResponse(blockedNumber, 'Blocked') },
    }),
    async (c) => c.json(await blockNumber(deps, c.get('device'), c.req.valid('json').number), 201),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/device/messaging/blocks/{number}',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Unblock a number',
      description: 'Answers 204 whether or not it was blocked.',
      request: { params: numberParam },
      responses: { 204: { description: 'Not blocked' } },
    }),
    async (c) => {
      await unblockNumber(deps, c.get('device'), c.req.valid('param').number);
      return c.body(null, 204);
    },
  );

  return router;
}
