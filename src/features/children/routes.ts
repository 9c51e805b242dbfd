import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { signupResponse } from '../../protocol/api/accounts.js';
import {
  guardianCodeBody,
  guardianCodeSent,
  guardianDeletionBody,
  guardianDeletionScheduled,
  pendingSignupIdParam,
} from '../../protocol/api/children.js';
import type { Throttles } from '../throttles/service.js';
import { confirmGuardianDeletion, confirmPendingSignup, requestGuardianDeletion, resendConsentCode } from './service.js';

export function childrenRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const tags = ['Children'];

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/accounts/pending/{pendingSignupId}/confirm',
      tags,
      summary: "Confirm an under-14 sign-up with the guardian's code",
      description:
        'Entered on the child\'s device or by the guardian. Creates the account as sign-up does and records the guardian. Codes are single-use, bound to this sign-up, and void after 5 wrong tries.',
      request: { params: pendingSignupIdParam, body: jsonBody(guardianCodeBody) },
      responses: { 201: jsonResponse(signupResponse, 'Account created; log in next'), ...errorResponses(409) },
    }),
    async (c) => c.json(await confirmPendingSignup(deps, c.req.valid('param').pendingSignupId, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/accounts/pending/{pendingSignupId}/resend',
      tags,
      summary: 'Send the guardian a new code (limited per sign-up and per guardian)',
      request: { params: pendingSignupIdParam },
      responses: { 200: jsonResponse(guardianCodeSent, 'Sent; the earlier code stops working'), ...errorResponses(404, 422, 429, 503) },
    }),
    async (c) => c.json(await resendConsentCode(deps, throttles, c.req.valid('param').pendingSignupId), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/guardian/deletion',
      tags,
      summary: "A guardian asks to have a child's account deleted",
      description:
        "Always answers 202 in the same shape. Only when the child's e-mail and the guardian's contact match the consent given at sign-up is a code sent to that contact; confirm with it.",
      request: { body: jsonBody(guardianDeletionBody) },
      responses: { 202: jsonResponse(guardianCodeSent, 'If the pair matches, a code was sent'), ...errorResponses(429) },
    }),
    async (c) => c.json(await requestGuardianDeletion(deps, throttles, c.req.valid('json')), 202),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/guardian/deletion/confirm',
      tags,
      summary: "Confirm the child's account deletion with the code",
      description: 'Schedules the deletion; it runs after the grace period, like an owner\'s. One answer for every refused code.',
      request: { body: jsonBody(guardianCodeBody) },
      responses: { 202: jsonResponse(guardianDeletionScheduled, 'Deletion scheduled'), ...errorResponses(409) },
    }),
    async (c) => c.json(await confirmGuardianDeletion(deps, c.req.valid('json')), 202),
  );

  return router;
}
