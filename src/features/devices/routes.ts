import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { device, deviceIdParam, deviceList, registerDeviceBody, registeredDevice, renameDeviceBody } from '../../protocol/api/devices.js';
import { getDevice, listDevices, registerDevice, removeDevice, renameDevice } from './service.js';

export function deviceRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/devices',
      tags: ['Devices'],
      summary: 'Register this phone',
      description:
        'Returns the device id and a device token that acts for this device alone. Registering the same hardware again (same identifierHash) keeps the id and replaces the token.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(registerDeviceBody) },
      responses: { 201: jsonResponse(registeredDevice, 'Registered') },
    }),
    async (c) => c.json(await registerDevice(deps, c.get('session'), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices',
      tags: ['Devices'],
      summary: "List this account's devices",
      security: SESSION_SECURITY,
      responses: { 200: jsonResponse(deviceList, 'Devices') },
    }),
    async (c) => c.json({ devices: await listDevices(deps, c.get('session').accountId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices/{deviceId}',
      tags: ['Devices'],
      summary: 'One device',
      security: SESSION_SECURITY,
      request: { params: deviceIdParam },
      responses: { 200: jsonResponse(device, 'The device'), ...errorResponses(404) },
    }),
    async (c) => c.json(await getDevice(deps, c.get('session').accountId, c.req.valid('param').deviceId), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/devices/{deviceId}',
      tags: ['Devices'],
      summary: 'Rename a device',
      security: SESSION_SECURITY,
      request: { params: deviceIdParam, body: jsonBody(renameDeviceBody) },
      responses: { 200: jsonResponse(device, 'Renamed'), ...errorResponses(404) },
    }),
    async (c) => {
      const { deviceId } = c.req.valid('param');
      return c.json(await renameDevice(deps, c.get('session').accountId, deviceId, c.req.valid('json').name), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/devices/{deviceId}',
      tags: ['Devices'],
      summary: 'Remove a device',
      description: "Its token stops working at once.",
      security: SESSION_SECURITY,
      request: { params: deviceIdParam },
      responses: { 204: { description: 'Removed' }, ...errorResponses(404) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      await removeDevice(deps, accountId, c.req.valid('param').deviceId, sessionId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device',
      tags: ['Devices'],
      summary: 'The device this token belongs to',
      description: 'Called by the phone with its device token; also records that the device was seen.',
      security: DEVICE_SECURITY,
      responses: { 200: jsonResponse(device, 'This device') },
    }),
    async (c) => {
      const { accountId, deviceId } = c.get('device');
      return c.json(await getDevice(deps, accountId, deviceId), 200);
    },
  );

  return router;
}
