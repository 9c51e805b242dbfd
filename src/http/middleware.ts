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
 * the operator says a proxy sets it; otherwise the runtime's own peer address is used. Of an
 * X-Forwarded-For list only the last entry counts: the trusted proxy appended it, while every
 * earlier entry is whatever the client chose to send.
 */
export function clientAddress(deps: Deps, peerAddress: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = deps.config.trustProxyHeader;
    const forwarded = header ? c.req.header(header)?.split(',').at(-1)?.trim() : undefined;
    c.set('clientAddress', forwarded || peerAddress(c) || 'unknown');
    await next();
  };
}

// Blob bodies stream to storage and are limited by MAX_BLOB_BYTES and the quota instead.
const STREAMED_BODY = /^\/v1\/(blobs|uploads\/[^/]+\/parts\/[^/]+)$/;

export function limitBody(deps: Deps): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: (c) =>
      errorResponse(c, 'payload_too_large', `the request body is larger than ${deps.config.maxBodyBytes} bytes`),
  });
  return (c, next) => (STREAMED_BODY.test(c.req.path) ? next() : limit(c, next));
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
