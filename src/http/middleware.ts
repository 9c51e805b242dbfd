import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Deps } from '../deps.js';
import { errorResponse } from './errors.js';
import type { AppEnv } from './env.js';
import { type DefaultHeader, defaultHeaders, mayBeDocument } from '../adapters/node-response-defaults.js';

/**
 * Where a runtime lets the app give the response headers before it exists: Node's ServerResponse
 * (src/adapters/node-response-defaults.ts). They are merged into whatever response the app answers
 * with as it is written (the answer's own header of the same name wins), so no Response has to be
 * copied to add them.
 */
export type DefaultHeadersOf = (c: Context<AppEnv>) => ((headers: readonly DefaultHeader[]) => void) | undefined;

/** Every response carries a fresh request id, which also appears in its error body and our logs. */
export function requestId(deps: Deps, defaultsOf?: DefaultHeadersOf): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = deps.random.id();
    c.set('requestId', id);
    const addDefaults = defaultsOf?.(c);
    if (addDefaults) {
      addDefaults([{ name: 'X-Request-Id', lower: 'x-request-id', value: id }]);
      return next();
    }
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
  const maxSize = deps.config.maxBodyBytes;
  const tooLarge = (c: Context<AppEnv>) => errorResponse(c, 'payload_too_large', `the request body is larger than ${maxSize} bytes`);
  const countingLimit = bodyLimit({ maxSize, onError: tooLarge });
  // The limit's machinery is not free: asking for the body stream makes the Node adapter build a
  // whole Web Request (an AbortController, a stream over the socket) instead of reading the body
  // straight into a buffer. No route reads a GET's or HEAD's body, and a declared Content-Length is
  // all the check needs (the HTTP parser holds the body to it), so only a chunked body is counted.
  return (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || STREAMED_BODY.test(c.req.path)) return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(declared, 10) > maxSize ? Promise.resolve(tooLarge(c)) : next();
    }
    return countingLimit(c, next);
  };
}

// The page asks for no powerful feature (it shows where the phone is, not where the browser is),
// so none is granted to it or to anything it could be tricked into embedding.
const PERMISSIONS_POLICY = [
  'accelerometer', 'camera', 'display-capture', 'geolocation', 'gyroscope', 'hid', 'magnetometer',
  'microphone', 'midi', 'payment', 'serial', 'usb',
].map((feature) => `${feature}=()`).join(', ');

/**
 * Headers every response gets; pages add their own CSP on top. HSTS only when clients reach us
 * over https: on a plain-http origin (development) it would be ignored at best. Other origins may
 * neither hold a window on our pages (COOP) nor embed our responses (CORP): the page, its assets
 * and blob downloads are all fetched from this origin, and presigned URLs point at the bucket.
 * Cache-Control and the CSP are defaults a route may replace; no route sets any of the others.
 * DOCUMENT_ONLY_HEADERS of these go only with answers that could be a page (mayBeDocument).
 */
export function securityHeaderValues(publicOrigin: string): Record<string, string> {
  return {
    ...(new URL(publicOrigin).protocol === 'https:' ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
    'Permissions-Policy': PERMISSIONS_POLICY,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  };
}

const ROUTE_MAY_REPLACE = new Set(['Cache-Control', 'Content-Security-Policy']);

/**
 * What only a page acts on: the features its scripts may use, and who may keep a handle on its
 * window. A JSON answer runs no script, and one opened cross-site in a window is an anonymous
 * error (the session cookie is SameSite=Strict), so it goes without these 220 bytes. CORP,
 * nosniff, the CSP and X-Frame-Options stay on every answer.
 */
export const DOCUMENT_ONLY_HEADERS: ReadonlySet<string> = new Set(['Permissions-Policy', 'Cross-Origin-Opener-Policy']);

/**
 * Puts securityHeaderValues on every response. Where the runtime takes default headers (Node), they
 * are given before the app runs and written with the answer's own, which keeps @hono/node-server on
 * its fast path (a response whose headers are one plain object is written straight out; adding
 * headers to a built Response makes it copy them through a Headers object). Elsewhere they are
 * added to the app's answer.
 */
export function securityHeaders(publicOrigin: string, defaultsOf?: DefaultHeadersOf): MiddlewareHandler<AppEnv> {
  const record = securityHeaderValues(publicOrigin);
  const asDefaults = defaultHeaders(record, DOCUMENT_ONLY_HEADERS);
  return async (c, next) => {
    const addDefaults = defaultsOf?.(c);
    if (addDefaults) {
      addDefaults(asDefaults);
      return next();
    }
    await next();
    const document = mayBeDocument(c.res.headers.get('content-type'));
    for (const { name, value, documentsOnly } of asDefaults) {
      if (documentsOnly && !document) continue;
      if (!ROUTE_MAY_REPLACE.has(name) || !c.res.headers.has(name)) c.res.headers.set(name, value);
    }
  };
}
