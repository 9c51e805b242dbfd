import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Deps } from '../deps.js';
import { errorResponse } from './errors.js';
import type { AppEnv } from './env.js';

/** Every response carries a fresh request id, which also appears in its error body and our logs. */
export function requestId(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = deps.random.id();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
    c.res.headers.set('X-Request-Id', id);
  };
}

/**
 * The client's address, used only to key abuse limits. A forwarding header is believed only when
 * the operator says a proxy sets it; otherwise the runtime's own peer address is used.
 */
export function clientAddress(deps: Deps, peerAddress: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = deps.config.trustProxyHeader;
    const forwarded = header ? c.req.header(header)?.split(',')[0]?.trim() : undefined;
    c.set('clientAddress', forwarded || peerAddress(c) || 'unknown');
    await next();
  };
}

export function limitBody(deps: Deps): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: (c) =>
      errorResponse(c, 'payload_too_large', `the request body is larger than ${deps.config.maxBodyBytes} bytes`),
  });
}

/** Headers every response gets; pages add their own CSP on top. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    c.res.headers.set('X-Frame-Options', 'DENY');
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    if (!c.res.headers.has('Content-Security-Policy')) {
      c.res.headers.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    }
  };
}
