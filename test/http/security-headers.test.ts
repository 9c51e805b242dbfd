import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { sha256Hex } from '../features/sync-helpers.js';

// The headers every response carries (src/http/middleware.ts securityHeaders), on API answers,
// errors, blob downloads and the page with its assets, for a plain-http and an https origin; and
// the two only a page acts on, on every answer but JSON ones.

let t: TestApp | undefined;
afterEach(() => t?.close());

const HSTS = 'max-age=31536000; includeSubDomains';
const WORLD_MAP = '/assets/world.json';

/** A logged-in bearer session on the app, through an SDK client that talks to the app's origin. */
async function sessionOn(app: TestApp, origin: string) {
  const api = createApiClient({ baseUrl: origin, fetch: (input, init) => app.app.request(input, init) });
  const email = uniqueEmail();
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response } = await logIn(api, { email, password: 'pw' });
  return { Authorization: `Bearer ${response.session.token}` };
}

/** One response of each kind the server sends, each checked to still be served whole. */
async function responsesOf(app: TestApp, origin: string) {
  const auth = await sessionOn(app, origin);
  const bytes = randomBytes(4096);
  const upload = await app.app.request(`${origin}/v1/blobs`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': '4096', 'X-Homing-SHA256': sha256Hex(bytes) },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  expect(upload.status).toBe(201);
  const { blobId } = await upload.json();
  const download = await app.request('GET', `/v1/blobs/${blobId}`, { headers: auth });
  expect(Buffer.from(await download.clone().arrayBuffer()).equals(bytes)).toBe(true);

  const page = await app.request('GET', '/');
  const html = await page.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.length).toBeGreaterThanOrEqual(2); // the script and the stylesheet
  const assetPaths = [...assets, WORLD_MAP];
  const assetResponses = await Promise.all(assetPaths.map((path) => app.request('GET', path)));
  for (const res of assetResponses) expect(res.status).toBe(200);

  return {
    'API answer': await app.request('GET', '/v1/account', { headers: auth }),
    'API error': await app.request('GET', '/v1/nowhere'),
    'OpenAPI document': await app.request('GET', '/openapi.json'),
    'blob download': download,
    page,
    ...Object.fromEntries(assetResponses.map((res, i) => [`asset ${assetPaths[i]}`, res])),
  };
}

// The answers that are JSON, and so can never be a page; every other one could be.
const JSON_ANSWERS = ['API answer', 'API error', 'OpenAPI document', `asset ${WORLD_MAP}`];

describe('security headers', () => {
  for (const origin of ['http://localhost:8787', 'https://homing.example']) {
    it(`on ${origin}: HSTS only when https, no embedding and no sniffing everywhere; no powerful features and no cross-origin openers on every answer that could be a page`, async () => {
      t = createTestApp({ PUBLIC_URL: origin });
      const responses = await responsesOf(t, origin);
      const kinds = Object.entries(responses).map(([kind, res]) => ({ kind, res, json: res.headers.get('content-type')?.startsWith('application/json') ?? false }));
      expect(kinds.filter((k) => k.json).map((k) => k.kind).sort()).toEqual([...JSON_ANSWERS].sort());
      expect(kinds.filter((k) => !k.json).length).toBeGreaterThanOrEqual(4); // the page, its script and stylesheet, a blob
      for (const { kind, res, json } of kinds) {
        const headers = (name: string) => res.headers.get(name);
        expect(headers('Strict-Transport-Security'), kind).toBe(origin.startsWith('https:') ? HSTS : null);
        expect(headers('Cross-Origin-Resource-Policy'), kind).toBe('same-origin');
        expect(headers('X-Content-Type-Options'), kind).toBe('nosniff');
        expect(headers('X-Frame-Options'), kind).toBe('DENY');
        expect(headers('Content-Security-Policy'), kind).toContain("frame-ancestors 'none'");
        if (json) {
          expect(headers('Cross-Origin-Opener-Policy'), kind).toBeNull();
          expect(headers('Permissions-Policy'), kind).toBeNull();
          continue;
        }
        expect(headers('Cross-Origin-Opener-Policy'), kind).toBe('same-origin');
        const permissions = headers('Permissions-Policy') ?? '';
        for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) {
          expect(permissions.split(', '), `${kind} ${feature}`).toContain(`${feature}=()`);
        }
      }
    });
  }
});
