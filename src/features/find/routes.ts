import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { device as deviceSchema } from '../../protocol/api/devices.js';
import { getDevice } from '../devices/service.js';
import type { Throttles } from '../throttles/service.js';
import {
  ackBody,
  command,
  commandIdParam,
  commandList,
  createCommandBody,
  deviceIdParam,
  findToggleBody,
  historyQuery,
  historyResponse,
  lastLocationResponse,
  pollQuery,
  reportLocationsBody,
} from '../../protocol/api/find.js';
import {
  acknowledgeCommand,
  createCommand,
  lastLocation,
  listCommands,
  locationHistory,
  pollCommands,
  reportLocations,
  setFindEnabled,
} from './service.js';

export function findRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const tags = ['Find Device'];

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/devices/{deviceId}/find',
      tags,
      security: SESSION_SECURITY,
      summary: 'Turn Find Device on or off for a device',
      description: 'Off deletes the device’s stored locations (history and last-known) and cancels its open commands.',
      request: { params: deviceIdParam, body: jsonBody(findToggleBody) },
      responses: { 200: jsonResponse(deviceSchema, 'The device'), ...errorResponses(404) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const { deviceId } = c.req.valid('param');
      await setFindEnabled(deps, accountId, deviceId, c.req.valid('json').enabled, { sessionId });
      return c.json(await getDevice(deps, accountId, deviceId), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/device/find',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Turn Find Device on or off, from the phone itself',
      request: { body: jsonBody(findToggleBody) },
      responses: { 200: jsonResponse(deviceSchema, 'This device') },
    }),
    async (c) => {
      const { accountId, deviceId } = c.get('device');
      await setFindEnabled(deps, accountId, deviceId, c.req.valid('json').enabled, { deviceId });
      return c.json(await getDevice(deps, accountId, deviceId), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/locations',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Report sealed locations (a batch queued while offline is fine)',
      description: 'Each report is a crypto_box_seal to the account X25519 key; oldest first. The last becomes the last-known location.',
      request: { body: jsonBody(reportLocationsBody) },
      responses: {
        202: jsonResponse(z.object({ accepted: z.number().int() }).openapi('ReportsAccepted'), 'Stored'),
        ...errorResponses(403, 429),
      },
    }),
    async (c) => c.json(await reportLocations(deps, throttles, c.get('device'), c.req.valid('json').reports), 202),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices/{deviceId}/location',
      tags,
      security: SESSION_SECURITY,
      summary: 'The last-known location (sealed)',
      description: 'Owner only; recorded in the account audit log.',
      request: { params: deviceIdParam },
      responses: { 200: jsonResponse(lastLocationResponse, 'Last known'), ...errorResponses(404) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await lastLocation(deps, accountId, c.req.valid('param').deviceId, sessionId), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices/{deviceId}/locations',
      tags,
      security: SESSION_SECURITY,
      summary: 'Location history in a time window (sealed)',
      description: 'Owner only; recorded in the account audit log. History is kept for LOCATION_HISTORY_HOURS.',
      request: { params: deviceIdParam, query: historyQuery },
      responses: { 200: jsonResponse(historyResponse, 'History, oldest first'), ...errorResponses(404) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await locationHistory(deps, accountId, c.req.valid('param').deviceId, sessionId, c.req.valid('query')), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/devices/{deviceId}/commands',
      tags,
      security: SESSION_SECURITY,
      summary: 'Send a signed command: ring, stop-ring, lock, unlock, locate or wipe',
      description:
        'Signed by the account command key over the v2 message of docs/CRYPTO.md §10, which includes the expiry; a body without expiresAt (the v1 format) is refused. The counter must grow. Lock puts the device in Lost Mode and unlock ends it. Wipe needs POST /v1/auth/reauthenticate within the last 5 minutes.',
      request: { params: deviceIdParam, body: jsonBody(createCommandBody) },
      responses: { 201: jsonResponse(command, 'Queued'), ...errorResponses(404, 409) },
    }),
    async (c) => c.json(await createCommand(deps, c.get('session'), c.req.valid('param').deviceId, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices/{deviceId}/commands',
      tags,
      security: SESSION_SECURITY,
      summary: 'Recent commands and their status',
      description: 'Commands left unacknowledged past their expiry show as expired.',
      request: { params: deviceIdParam },
      responses: { 200: jsonResponse(commandList, 'Newest first'), ...errorResponses(404) },
    }),
    async (c) => c.json({ commands: await listCommands(deps, c.get('session').accountId, c.req.valid('param').deviceId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/commands',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Due commands for this device (long poll)',
      description:
        'Waits up to `wait` seconds for one. Each command handed out is leased for COMMAND_LEASE_SECONDS: if it is not acknowledged by then, the next poll hands it out again, until its expiry. The device must verify each signature, counter and expiry before acting, and recognise a command it already carried out.',
      request: { query: pollQuery },
      responses: { 200: jsonResponse(commandList, 'Oldest first') },
    }),
    async (c) => c.json({ commands: await pollCommands(deps, c.get('device'), c.req.valid('query').wait) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/commands/{commandId}/ack',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Report the result of a command',
      description:
        'Idempotent: acknowledging a command already acknowledged returns it unchanged. A command this device was never handed (still pending, or another device’s) is not found.',
      request: { params: commandIdParam, body: jsonBody(ackBody) },
      responses: { 200: jsonResponse(command, 'Recorded, or unchanged'), ...errorResponses(404) },
    }),
    async (c) => c.json(await acknowledgeCommand(deps, c.get('device'), c.req.valid('param').commandId, c.req.valid('json')), 200),
  );

  return router;
}
