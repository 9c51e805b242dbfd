import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { SIGNUPS_PER_ADDRESS, type Throttles } from '../throttles/service.js';
import { accountResponse, signupBody, signupResponse } from '../../protocol/api/accounts.js';
import { getAccount, getKeyBundle, type GuardianConsent, signUpOrAskGuardian } from './service.js';
import { pendingSignupResponse } from '../../protocol/api/children.js';
import { keyBundle } from '../../protocol/api/auth.js';

export function accountRoutes(deps: Deps, throttles: Throttles, guardians: GuardianConsent) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/accounts',
      tags: ['Accounts'],
      summary: 'Sign up with keys made on the device',
      description:
        'The client derives every key from the password and a fresh recovery key (docs/CRYPTO.md) and sends only public keys and wrapped secrets. ' +
        'A user who may be under 14 (by birth year) names a guardian; nothing but a pending record is kept until the guardian confirms with the code sent to them (POST /v1/accounts/pending/{pendingSignupId}/confirm).',
      request: { body: jsonBody(signupBody) },
      responses: {
        201: jsonResponse(signupResponse, 'Account created; log in next'),
        202: jsonResponse(pendingSignupResponse, "Under 14: a code went to the guardian; the account is created when it is confirmed"),
        ...errorResponses(409, 422, 429, 503),
      },
    }),
    async (c) => {
      await throttles.hit(throttles.keyOf('signups:address', c.get('clientAddress')), SIGNUPS_PER_ADDRESS);
      const result = await signUpOrAskGuardian(deps, guardians, c.req.valid('json'));
      return result.status === 202 ? c.json(result.body, 202) : c.json(result.body, 201);
    },
  );


  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account',
      tags: ['Accounts'],
      summary: 'The logged-in account',
      security: SESSION_SECURITY,
      responses: { 200: jsonResponse(accountResponse, 'The account') },
    }),
    async (c) => c.json(await getAccount(deps, c.get('session').accountId), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/keys',
      tags: ['Accounts'],
      summary: "The account's wrapped key bundle",
      description:
        'The same bundle login returns: public keys and secrets sealed under keys only the client can derive. A logged-in device uses it to unlock its keys from the password without opening another session.',
      security: SESSION_SECURITY,
      responses: { 200: jsonResponse(keyBundle, 'The key bundle') },
    }),
    async (c) => c.json(await getKeyBundle(deps, c.get('session').accountId), 200),
  );

  return router;
}
