import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { bearerToken } from '../../http/bearer.js';
import type { AppEnv } from '../../http/env.js';
import { isOwnOrigin } from '../../http/own-origins.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../../protocol/headers.js';
import { authenticateSession, csrfTokenMatches } from './service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Requires an account session: a bearer token (apps, the CLI) or the HttpOnly cookie (the web
 * page). Cookie requests that change state must also carry the session's CSRF token in a header
 * and, when the browser sends an Origin, come from one of our own origins (http/own-origins.ts): a
 * cross-site form can neither read the token nor set the header.
 */
export function requireSession(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bearer = bearerToken(c, 'hs');
    const cookie = bearer ? undefined : getCookie(c, SESSION_COOKIE);
    if (!bearer && !cookie) throw new AppError('unauthorized', 'log in first: send a session token or cookie');
    const session = await authenticateSession(deps, (bearer ?? cookie)!, bearer ? 'bearer' : 'cookie');
    if (session.kind === 'cookie' && !SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header('Origin');
      if (origin !== undefined && !isOwnOrigin(deps.config.publicOrigin, origin)) {
        throw new AppError('csrf_failed', 'cross-origin request refused');
      }
      if (!csrfTokenMatches(deps, session.sessionId, c.req.header(CSRF_HEADER))) {
        throw new AppError('csrf_failed', `missing or wrong ${CSRF_HEADER} header`);
      }
    }
    c.set('session', session);
    await next();
  };
}
