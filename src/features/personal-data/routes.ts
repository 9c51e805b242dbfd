import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import type { Throttles } from '../throttles/service.js';
import {
  accountResponse,
  emailChangeBody,
  phoneChangeBody,
  phoneRemoveBody,
  verificationConfirmBody,
  verificationStarted,
} from '../../protocol/api/accounts.js';
import { confirmEmailChange, confirmPhoneChange, removePhone, startEmailChange, startPhoneChange } from './service.js';

export function personalDataRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/email',
      tags: ['Accounts'],
      summary: 'Start changing the e-mail address',
      description:
        'Needs a fresh signed challenge (password or recovery key). Sends a 6-digit code to the new address; confirm it with POST /v1/account/email/confirm. The answer is the same whether or not the address belongs to another account (which then gets a notice instead of a code). Limited to 5 codes a day per account and 3 per address.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(emailChangeBody) },
      responses: { 200: jsonResponse(verificationStarted, 'A code was sent to the new address'), ...errorResponses(429, 503) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const started = await startEmailChange(deps, throttles, { accountId, sessionId }, c.req.valid('json'), { clientAddress: c.get('clientAddress') });
      return c.json(started, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/email/confirm',
      tags: ['Accounts'],
      summary: 'Confirm the new e-mail address with its code',
      description:
        'Changes the sealed address and its login index in one write, records email.changed in the audit log, and tells the old address. A code dies when used, after 5 wrong tries, or when it expires.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(verificationConfirmBody) },
      responses: { 200: jsonResponse(accountResponse, 'The account, with its new address') },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await confirmEmailChange(deps, { accountId, sessionId }, c.req.valid('json')), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/phone',
      tags: ['Accounts'],
      summary: 'Start changing the phone number',
      description:
        "Needs a fresh signed challenge. Texts a 6-digit code to the new number (which must be in the server's SMS_ALLOWED_PREFIXES, when set); confirm it with POST /v1/account/phone/confirm. A number held by another account gets a notice instead of a code, and the same answer.",
      security: SESSION_SECURITY,
      request: { body: jsonBody(phoneChangeBody) },
      responses: { 200: jsonResponse(verificationStarted, 'A code was texted to the new number'), ...errorResponses(422, 429, 503) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const started = await startPhoneChange(deps, throttles, { accountId, sessionId }, c.req.valid('json'), { clientAddress: c.get('clientAddress') });
      return c.json(started, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/phone/confirm',
      tags: ['Accounts'],
      summary: 'Confirm the new phone number with its code',
      description: 'Changes the sealed number and its index in one write, records phone.changed, and tells the account’s e-mail address.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(verificationConfirmBody) },
      responses: { 200: jsonResponse(accountResponse, 'The account, with its new number') },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      return c.json(await confirmPhoneChange(deps, { accountId, sessionId }, c.req.valid('json')), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/account/phone',
      tags: ['Accounts'],
      summary: 'Remove the phone number',
      description: 'Needs a fresh signed challenge. Records phone.changed and tells the account’s e-mail address. Nothing to remove is not an error.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(phoneRemoveBody) },
      responses: { 204: { description: 'The account has no phone number now' }, ...errorResponses(429) },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      await removePhone(deps, throttles, { accountId, sessionId }, c.req.valid('json'), { clientAddress: c.get('clientAddress') });
      return c.body(null, 204);
    },
  );

  return router;
}
