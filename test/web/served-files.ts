import { expect } from 'vitest';
import { css, js, world } from '../../dist/web/assets.js';
import { init, licenses, redoc } from '../../dist/web/docs-assets.js';

// What a browser gets for each file the build writes to dist/public/, written once and checked on
// both runtimes: through the Node app (test/http/static-files.test.ts) and through the Worker in
// workerd, where the files come from Workers Static Assets (test/workers/static-assets.spec.ts).
// The same expectations on both is what keeps the two runtimes' headers identical.

const IMMUTABLE = 'public, max-age=31536000, immutable';
const DAILY = 'public, max-age=86400';

export const SERVED_FILES = [
  { file: js, type: 'text/javascript; charset=utf-8', cacheControl: IMMUTABLE },
  { file: css, type: 'text/css; charset=utf-8', cacheControl: IMMUTABLE },
  { file: world, type: 'application/json', cacheControl: DAILY },
  { file: redoc, type: 'text/javascript; charset=utf-8', cacheControl: IMMUTABLE },
  { file: init, type: 'text/javascript; charset=utf-8', cacheControl: IMMUTABLE },
  { file: licenses, type: 'text/plain; charset=utf-8', cacheControl: DAILY },
];

/** The headers src/http/middleware.ts (securityHeaders) gives every response on an http:// origin, files included. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy':
    'accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Of SECURITY_HEADERS, those a JSON file goes without: only a page acts on them. */
const PAGE_ONLY = new Set(['cross-origin-opener-policy', 'permissions-policy']);

export const sha256Hex = async (bytes: ArrayBuffer) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Asks for one file twice, plainly and then with its ETag, through `fetch`, and checks both answers. */
export async function expectServedFile(fetch: (path: string, headers?: Record<string, string>) => Response | Promise<Response>, served: (typeof SERVED_FILES)[number]) {
  const { file } = served;
  const response = await fetch(file.path);
  expect(response.status, file.path).toBe(200);
  const body = await response.arrayBuffer();
  expect(await sha256Hex(body), `${file.path}: the bytes the build wrote`).toBe(file.sha256);
  expect(response.headers.get('content-type'), file.path).toBe(served.type);
  expect(response.headers.get('cache-control'), file.path).toBe(served.cacheControl);
  expect(response.headers.get('etag'), file.path).toBe(`"${file.sha256}"`);
  const page = !served.type.startsWith('application/json');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers.get(name), `${file.path}: ${name}`).toBe(page || !PAGE_ONLY.has(name) ? value : null);
  }
  expect(response.headers.get('x-request-id'), file.path).toBeTruthy();

  const again = await fetch(file.path, { 'If-None-Match': `"${file.sha256}"` });
  expect(again.status, `${file.path} revalidated`).toBe(304);
  expect(await again.text()).toBe('');
  expect(again.headers.get('x-content-type-options')).toBe('nosniff');
}
