import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Deps } from '../deps.js';
import { AppError } from './app-error.js';
import { authenticateDevice } from '../features/devices/service.js';
import { authenticateSession, csrfTokenMatches } from '../features/sessions/service.js';
import type { AppEnv } from './env.js';

export const SESSION_COOKIE = '__Host-homing-session';
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(c: Context<AppEnv>, prefix: string) {
  const header = c.req.header('Authorization');
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1]?.startsWith(`${prefix}_`) ? match[1] : undefined;
}

/**
 * Requires an account session: a bearer token (apps, the CLI) or the HttpOnly cookie (the web
 * page). Cookie requests that change state must also carry the session's CSRF token in a header
 * and, when the browser sends an Origin, come from our own origin: a cross-site form can neither
 * read the token nor set the header.
 */
export function requireSession(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bearer = bearerToken(c, 'hs');
    const cookie = bearer ? undefined : getCookie(c, SESSION_COOKIE);
    if (!bearer && !cookie) throw new AppError('unauthorized', 'log in first: send a session token or cookie');
    const session = await authenticateSession(deps, (bearer ?? cookie)!, bearer ? 'bearer' : 'cookie');
    if (session.kind === 'cookie' && !SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header('Origin');
      if (origin !== undefined && origin !== deps.config.publicOrigin) {
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

/** Requires a device token; the device it names is the only one the request may act for. */
export function requireDevice(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c, 'hd');
    if (!token) throw new AppError('unauthorized', 'send this device\'s token as "Authorization: Bearer hd_…"');
    c.set('device', await authenticateDevice(deps, token));
    await next();
  };
}
