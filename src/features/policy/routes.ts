import { createRoute } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { jsonResponse } from '../../http/openapi.js';
import { accountPolicyResponse, policyResponse } from '../../protocol/api/policy.js';
import { currentPolicy, policyStatus } from './service.js';

export function policyRoutes(deps: Deps) {
  const router = createRouter();
  const tags = ['Privacy'];

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policy',
      tags,
      summary: 'The privacy policy in force',
      description: 'Public: what a user agrees to at sign-up, and what POST /v1/account/policy/accept accepts.',
      responses: { 200: jsonResponse(policyResponse, 'The policy') },
    }),
    async (c) => {
      const { version, text, sha256, publishedAt, reducesRights } = await currentPolicy(deps);
      return c.json({ version, text, sha256, publishedAt, reducesRights }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/policy',
      tags,
      security: SESSION_SECURITY,
      summary: 'The policy version this account accepted, and whether a notice is pending',
      description:
        'noticePending is the in-app notice: a newer version was published. When it reduced rights, consents given under older versions count as off (GET /v1/account/consents says which) until accepted again.',
      responses: { 200: jsonResponse(accountPolicyResponse, 'Where the account stands') },
    }),
    async (c) => c.json(await policyStatus(deps, c.get('session').accountId), 200),
  );

  return router;
}
