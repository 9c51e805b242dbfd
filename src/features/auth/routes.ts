import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Deps } from '../../deps.js';
import { SESSION_COOKIE, TRUSTED_CLIENT_COOKIE } from '../../protocol/headers.js';
import type { AppEnv } from '../../http/env.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import { requestOrigin } from '../../http/own-origins.js';
import { csrfTokenOf, revokeSession } from '../sessions/service.js';
import type { Throttles } from '../throttles/service.js';
import {
  challengeBody,
  challengeResponse,
  currentSession,
  loginBody,
  loginResponse,
  proof,
  reauthenticateResponse,
} from '../../protocol/api/auth.js';
import { passwordChangeBody, passwordChangeResponse } from '../../protocol/api/accounts.js';
import { createKdfDecoys } from '../accounts/kdf-decoy.js';
import { changePassword, createChallenge, login, reauthenticate } from './service.js';
import { TRUSTED_CLIENT_LIFETIME_SECONDS } from './trusted-client.js';

export function authRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const decoys = createKdfDecoys(deps);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/challenge',
      tags: ['Auth'],
      summary: 'Ask for a login challenge',
      description:
        'Returns a single-use challenge and, for the password method, the Argon2id salt and parameters. Unknown emails get the same shape with a stable decoy salt and parameters drawn from those this server\'s accounts use, so this does not reveal who is registered. Limited per email and address, per address, and (unless the client sends an earlier login\'s trustedClient) per email.',
      request: { body: jsonBody(challengeBody) },
      responses: { 200: jsonResponse(challengeResponse, 'A challenge to sign'), ...errorResponses(429) },
    }),
    async (c) => {
      const { trustedClient, ...body } = c.req.valid('json');
      const ctx = { ...ctxOf(c, trustedClient), requestOrigin: requestOrigin(c) };
      return c.json(await createChallenge(deps, throttles, decoys, body, ctx), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/login',
      tags: ['Auth'],
      summary: 'Log in with a signed challenge',
      description:
        'Verifies the Ed25519 signature over the challenge message and opens a session. No password or password equivalent is sent. Returns the wrapped key bundle.',
      request: { body: jsonBody(loginBody) },
      responses: { 200: jsonResponse(loginResponse, 'Logged in'), ...errorResponses(401, 429) },
    }),
    async (c) => {
      const { trustedClient: presented, ...body } = c.req.valid('json');
      const { trustedClient, ...result } = await login(deps, throttles, { ...body, sessionKind: body.session }, ctxOf(c, presented));
      const { token, ...session } = result.session;
      if (session.kind === 'cookie') {
        const cookie = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' } as const;
        setCookie(c, SESSION_COOKIE, token, { ...cookie, maxAge: Math.floor(deps.config.sessionTtlMs / 1000) });
        // Outlives the session on purpose: it is what lets this browser in during an attack later.
        setCookie(c, TRUSTED_CLIENT_COOKIE, trustedClient, { ...cookie, maxAge: TRUSTED_CLIENT_LIFETIME_SECONDS });
        return c.json({ ...result, session: { ...session, csrfToken: csrfTokenOf(deps, session.id) } }, 200);
      }
      return c.json({ ...result, trustedClient, session: { ...session, token } }, 200);
    },
  );


  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/auth/session',
      tags: ['Auth'],
      summary: 'The current session (and its CSRF token, for cookie sessions)',
      security: SESSION_SECURITY,
      responses: { 200: jsonResponse(currentSession, 'The session') },
    }),
    (c) => {
      const s = c.get('session');
      return c.json(
        {
          accountId: s.accountId,
          sessionId: s.sessionId,
          kind: s.kind,
          reauthenticatedAt: s.reauthenticatedAt,
          ...(s.kind === 'cookie' ? { csrfToken: csrfTokenOf(deps, s.sessionId) } : {}),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/reauthenticate',
      tags: ['Auth'],
      summary: 'Prove the password again',
      description: 'Records a fresh signed challenge on this session; dangerous actions (such as wipe) require one from the last 5 minutes.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(proof) },
      responses: {
        200: jsonResponse(reauthenticateResponse, 'Re-authenticated'),
        ...errorResponses(429),
      },
    }),
    async (c) => c.json(await reauthenticate(deps, throttles, c.get('session'), c.req.valid('json'), ctxOf(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/logout',
      tags: ['Auth'],
      summary: 'End this session',
      security: SESSION_SECURITY,
      responses: { 204: { description: 'Logged out' } },
    }),
    async (c) => {
      const s = c.get('session');
      await revokeSession(deps, s.accountId, s.sessionId);
      if (s.kind === 'cookie') deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/account/password',
      tags: ['Accounts'],
      summary: 'Change the password',
      description:
        'Proves the current password or the recovery key with a fresh signed challenge, replaces the password-derived login key and wrapped master key, and signs out every other session.',
      security: SESSION_SECURITY,
      request: { body: jsonBody(passwordChangeBody) },
      responses: {
        200: jsonResponse(passwordChangeResponse, 'Password changed'),
        ...errorResponses(429),
      },
    }),
    async (c) => {
      const { accountId, sessionId } = c.get('session');
      const result = await changePassword(deps, throttles, { accountId, sessionId }, c.req.valid('json'), {
        clientAddress: c.get('clientAddress'),
      });
      return c.json(result, 200);
    },
  );

  return router;
}

/** The client's address and trusted-client token: the body's (SDK, CLI) or else the cookie (browser). */
const ctxOf = (c: Context<AppEnv>, trustedClient?: string) => ({
  clientAddress: c.get('clientAddress'),
  trustedClient: trustedClient ?? getCookie(c, TRUSTED_CLIENT_COOKIE),
});
