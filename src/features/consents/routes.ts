import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  consentHistoryQuery,
  consentHistoryResponse,
  consentsResponse,
  purposeParam,
  putConsentBody,
  putConsentResponse,
} from '../../protocol/api/consents.js';
import { acceptPolicyBody } from '../../protocol/api/policy.js';
import { acceptPolicy, changeConsent, type ConsentActions, consentHistory, consentsOf } from './service.js';

const CHANGE_DESCRIPTION =
  'Every change is a new row in the ledger with the time, the session or device that made it and the policy version in force. Turning a data kind (sync:<kind>) off needs stored: "keep" or "delete"; delete removes every collection, item and blob of the kind and answers the signed receipt. find takes the deviceId (of this account) and is the same switch as PUT /v1/devices/{deviceId}/find. messaging takes the deviceId too and can only be withdrawn here (it turns the device\'s messaging off, as DELETE /v1/device/messaging); it is turned on by the phone with PUT /v1/device/messaging.';

export function consentRoutes(deps: Deps, actions: ConsentActions) {
  const router = createRouter();
  const tags = ['Privacy'];

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/consents',
      tags,
      security: SESSION_SECURITY,
      summary: 'What this account consents to, per purpose, and Find Device per device',
      responses: { 200: jsonResponse(consentsResponse, 'Current consents') },
    }),
    async (c) => c.json(await consentsOf(deps, c.get('session').accountId), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/account/consents/{purpose}',
      tags,
      security: SESSION_SECURITY,
      summary: 'Grant or withdraw one consent',
      description: CHANGE_DESCRIPTION,
      request: { params: purposeParam, body: jsonBody(putConsentBody) },
      responses: { 200: jsonResponse(putConsentResponse, 'The new state'), ...errorResponses(404) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const body = c.req.valid('json');
      const { purpose } = c.req.valid('param');
      return c.json(await changeConsent(deps, actions, { accountId, purpose, ...body, actor: { sessionId } }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/consents/history',
      tags,
      security: SESSION_SECURITY,
      summary: 'The consent ledger, newest first',
      request: { query: consentHistoryQuery },
      responses: { 200: jsonResponse(consentHistoryResponse, 'A page of the ledger') },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid('query');
      return c.json(await consentHistory(deps, c.get('session').accountId, cursor, limit), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/policy/accept',
      tags,
      security: SESSION_SECURITY,
      summary: 'Accept the policy in force, granting again the consents named',
      description:
        'Acknowledges the notice of the current version. Consents given under a version older than the newest rights-reducing one stay off unless named in regrant (a default one counts as given under the version accepted, so accepting turns it back on). Answers 409 when version is not the current one.',
      request: { body: jsonBody(acceptPolicyBody) },
      responses: { 200: jsonResponse(consentsResponse, 'Consents after accepting'), ...errorResponses(409) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const { version, regrant } = c.req.valid('json');
      return c.json(await acceptPolicy(deps, { accountId, version, regrant, actor: { sessionId } }), 200);
    },
  );

  // A phone acts for its account: the same choices, recorded as made by that device.
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/device/consents',
      tags,
      security: DEVICE_SECURITY,
      summary: "The account's consents, read by one of its phones",
      description: 'Find Device and Messages are listed for this phone only: a phone learns nothing of the account’s other devices.',
      responses: { 200: jsonResponse(consentsResponse, 'Current consents') },
    }),
    async (c) => {
      const { accountId, deviceId } = c.get('device');
      const consents = await consentsOf(deps, accountId);
      const own = <T extends { deviceId: string }>(states: T[]) => states.filter((f) => f.deviceId === deviceId);
      return c.json({ ...consents, find: own(consents.find), messaging: own(consents.messaging) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/device/consents/{purpose}',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Grant or withdraw one consent, from a phone of the account',
      description: `${CHANGE_DESCRIPTION} The ledger records the device as the one that chose. A phone chooses Find Device for itself only, and cannot delete stored data (403: that needs a session).`,
      request: { params: purposeParam, body: jsonBody(putConsentBody) },
      responses: { 200: jsonResponse(putConsentResponse, 'The new state'), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const { accountId, deviceId } = c.get('device');
      const body = c.req.valid('json');
      const { purpose } = c.req.valid('param');
      return c.json(await changeConsent(deps, actions, { accountId, purpose, ...body, actor: { deviceId } }), 200);
    },
  );

  return router;
}
